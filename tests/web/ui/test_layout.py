"""The web pages are organised by area (``web/ui/<area>/``: views, forms, templates). Template
names stay ``ui/<page>.html``: each name is found in exactly one folder, and every area folder
that has templates is one the settings list, so no page's template is shadowed or lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template

WEB = Path(__file__).resolve().parents[3] / "src" / "brankas" / "web"


def template_dirs() -> list[Path]:
    return [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]


def test_every_area_with_templates_is_listed_in_the_settings():
    areas = {p.parent.name for p in WEB.joinpath("ui").glob("*/templates")}
    assert areas and areas == set(settings.UI_AREAS)
    assert set(template_dirs()) == {WEB / "templates",
                                    *(WEB / "ui" / area / "templates" for area in areas)}


def test_each_template_name_is_defined_once_and_resolves_to_its_file():
    names: Counter[str] = Counter()
    where: dict[str, Path] = {}
    for folder in template_dirs():
        for path in folder.rglob("*.html"):
            name = path.relative_to(folder).as_posix()
            names[name] += 1
            where[name] = path
    assert [n for n, count in names.items() if count > 1] == []
    assert "ui/document_list.html" in where and "base.html" in where
    for name, path in where.items():
        assert Path(get_template(name).origin.name) == path, name
