"""SuperGPQA: 26,529 graduate-level questions in 285 disciplines (13 fields of study, 72 subfields here called
fields, as the dataset does), most with ten options, written to need expert knowledge and reasoning.

M-A-P Team, "SuperGPQA: Scaling LLM Evaluation across 285 Graduate Disciplines", 2025 (arXiv:2502.14739). As
EvalScope's ``super_gpqa``: the one split (``train``), a subset per ``field``, 0-shot with a step-by-step prompt,
the letter (A-J) read from the last answer marker. The paper's 5-shot setting (fixed examples) is not offered.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import LETTERS, MultipleChoice
from assay.types import Sample

FIELDS = (
    "Aeronautical and Astronautical Science and Technology", "Agricultural Engineering", "Animal Husbandry",
    "Applied Economics", "Aquaculture", "Architecture", "Art Studies", "Astronomy", "Atmospheric Science",
    "Basic Medicine", "Biology", "Business Administration", "Chemical Engineering and Technology",
    "Chemistry", "Civil Engineering", "Clinical Medicine", "Computer Science and Technology",
    "Control Science and Engineering", "Crop Science", "Education", "Electrical Engineering",
    "Electronic Science and Technology", "Environmental Science and Engineering",
    "Food Science and Engineering", "Forestry", "Forestry Engineering", "Geography",
    "Geological Resources and Geological Engineering", "Geology", "Geophysics", "History",
    "Hydraulic Engineering", "Information and Communication Engineering", "Instrument Science and Technology",
    "Journalism and Communication", "Language and Literature", "Law",
    "Library, Information and Archival Management", "Management Science and Engineering",
    "Materials Science and Engineering", "Mathematics", "Mechanical Engineering", "Mechanics",
    "Metallurgical Engineering", "Military Science", "Mining Engineering", "Musicology",
    "Naval Architecture and Ocean Engineering", "Nuclear Science and Technology", "Oceanography",
    "Optical Engineering", "Petroleum and Natural Gas Engineering", "Pharmacy", "Philosophy",
    "Physical Education", "Physical Oceanography", "Physics", "Political Science",
    "Power Engineering and Engineering Thermophysics", "Psychology", "Public Administration",
    "Public Health and Preventive Medicine", "Sociology", "Stomatology",
    "Surveying and Mapping Science and Technology", "Systems Science", "Textile Science and Engineering",
    "Theoretical Economics", "Traditional Chinese Medicine", "Transportation Engineering",
    "Veterinary Medicine", "Weapon Science and Technology",
)


@register_benchmark("super_gpqa", task_type="mcq", tags=("en", "knowledge", "reasoning"))
class SuperGPQA(MultipleChoice):
    """SuperGPQA (M-A-P Team, 2025): up to ten options, a subset per field."""

    version = "1"
    licence = "ODC-BY"
    source = HubDataset(hubs=(("huggingface", "m-a-p/SuperGPQA"), ("modelscope", "m-a-p/SuperGPQA")),
                        split="train", subset_column="field")
    subsets = FIELDS

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return row.get("field")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        options = [str(option) for option in row["options"]]
        return self.make_sample(str(row.get("uuid") or f"{subset}/{index}"), str(row["question"]), options,
                                [LETTERS.index(str(row["answer_letter"]).strip().upper())], subset,
                                discipline=row.get("discipline"), subfield=row.get("subfield"),
                                difficulty=row.get("difficulty"))
