"""Issue files: the YAML the team writes, read into an IssueDocument and written back out.

Reading copies local images into the media folder, so a stored issue never depends on the
folder it was imported from. Only images inside that folder (or below it) are read: anything copied
becomes public at BASE_URL/media/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from newsletter.issues.blocks import InvalidIssue, IssueDocument, parse_issue, picture_fields
from newsletter.issues.media import MEDIA_PREFIX, MediaError, is_remote, local_image, store_file


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidIssue([f"{path}: no such file"]) from None
    except UnicodeDecodeError:
        raise InvalidIssue([f"{path}: not UTF-8 text; save the file as UTF-8"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise InvalidIssue([f"{path.name}: {problem}{where}"]) from None


def _store_images(doc: IssueDocument, base: Path, media_dir: Path) -> IssueDocument:
    problems = []
    blocks = []
    for index, block in enumerate(doc.blocks, start=1):
        for field in block.picture_fields():
            src = getattr(block, field)
            if src and not is_remote(src) and not src.startswith(MEDIA_PREFIX):
                try:
                    block = block.model_copy(update={field: store_file(local_image(base, src), media_dir)})
                except MediaError as error:
                    problems.append(f"block {index} ({block.type}), field {field}: {error}")
        blocks.append(block)
    if problems:
        raise InvalidIssue(problems)
    return doc.model_copy(update={"blocks": blocks})


def read_issue_file(path: Path, media_dir: Path) -> IssueDocument:
    """Parse and validate an issue file; InvalidIssue lists every problem, naming block and field."""
    doc = parse_issue(_load_yaml(path))
    return _store_images(doc, path.parent, media_dir)


def dump_issue(doc: IssueDocument, base_url: str) -> str:
    """The YAML for an issue, with stored images as absolute addresses so the file works anywhere."""
    data = doc.model_dump(mode="json", exclude_none=True)
    for block in data["blocks"]:
        for field in picture_fields(block["type"]):
            value = block.get(field)
            if isinstance(value, str) and value.startswith(MEDIA_PREFIX):
                block[field] = base_url + value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
