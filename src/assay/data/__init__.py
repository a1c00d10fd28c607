"""Dataset sources: local files and folders, the Hugging Face hub and ModelScope, with a cache dir."""

from assay.data.loader import DATASET_DIR_ENV, DatasetLoader, default_dataset_dir
from assay.data.readers import read_rows
from assay.data.source import HUBS, SUBSET_COLUMNS, HubDataset, HubId, find_split_files, folder_names

__all__ = ["DATASET_DIR_ENV", "HUBS", "SUBSET_COLUMNS", "DatasetLoader", "HubDataset", "HubId",
           "default_dataset_dir", "find_split_files", "folder_names", "read_rows"]
