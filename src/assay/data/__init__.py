"""Dataset sources: local files and folders, the Hugging Face hub and ModelScope, with a cache dir."""

from assay.data.loader import DEFAULT_CACHE_DIR, DatasetLoader
from assay.data.readers import read_rows
from assay.data.source import HubDataset, find_split_files

__all__ = ["DEFAULT_CACHE_DIR", "DatasetLoader", "HubDataset", "find_split_files", "read_rows"]
