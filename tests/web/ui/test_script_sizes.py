"""The page script writes a chosen file's size as the pages do ("1,5 KB" on the Indonesian
pages, "1.5 KB" on the English ones), not "0.0 MiB" (issue 14: sizes in one style). The
script's function is run by Node when it is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = (Path(__file__).resolve().parents[3] / "src" / "brankas" / "web" / "static"
          / "brankas" / "brankas.js")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_the_script_writes_sizes_as_the_pages_do() -> None:
    from django.utils import translation

    from brankas.web.ui.formats import size_text

    source = SCRIPT.read_text(encoding="utf-8")
    found = re.search(r"function sizeText\(.*?// end sizeText", source, re.S)
    assert found, "sizeText is gone from brankas.js"
    values = [0, 512, 1536, 1048576 * 3 + 5, 5 * 1024**3]
    for lang in ("id", "en"):
        program = (found.group(0) + f"\nconsole.log(JSON.stringify({json.dumps(values)}"
                   f".map(function (v) {{ return sizeText(v, {json.dumps(lang)}); }})));")
        out = subprocess.run(["node", "-e", program], capture_output=True, text=True,
                             check=True).stdout
        with translation.override(lang):
            assert json.loads(out) == [size_text(v) for v in values], lang
    assert "MiB" not in source
