"""Folders typed on a page (``web.backup.paths``): hostile text refused with a Brankas
refusal (a field error on the page), never an unexpected error. Real folders and links
under tmp_path, the office fixture's data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from brankas.core.errors import SetupError
from brankas.web.backup import paths


def _long(tmp_path: Path) -> list[str]:
    return [str(tmp_path / ("a" * 300)),  # one name longer than any file system allows
            str(tmp_path.joinpath(*["b" * 200] * 30))]  # a path longer than PATH_MAX


def test_a_name_too_long_for_the_file_system_is_refused_not_an_error(office, tmp_path):
    for typed in _long(tmp_path):
        for check in (paths.existing_folder, paths.empty_target):
            with pytest.raises(SetupError) as refused:
                check(typed)
            assert refused.value.code in {"path_not_folder", "path_unusable"}, check
            assert refused.value.message("en") and refused.value.message("id")


def test_the_data_folder_through_links_and_dotdot_is_refused(office, tmp_path):
    home = office.home
    link = tmp_path / "tautan"
    link.symlink_to(home, target_is_directory=True)
    for typed in (home, link, link / "arsip", f"{tmp_path}/x/../tautan/arsip",
                  f"{home}/../{home.name}/tmp"):
        with pytest.raises(SetupError) as refused:
            paths.outside_home(typed)
        assert refused.value.code == "path_inside_home", typed


def test_a_target_that_is_a_file_or_not_empty_is_refused(office, tmp_path):
    tmp_path = tmp_path / "laptop"
    tmp_path.mkdir()
    a_file = tmp_path / "berkas.txt"
    a_file.write_text("x")
    with pytest.raises(SetupError):
        paths.empty_target(a_file)
    assert paths.empty_target(tmp_path / "baru") == tmp_path / "baru"
    assert os.listdir(tmp_path) == ["berkas.txt"]  # nothing made by a check
