"""Property: whatever name a file arrives with, intake either refuses it with a stable code
or keeps a name that is safe everywhere and carries no path."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from brankas.core.errors import InvalidInput
from brankas.core.names import is_safe_component
from brankas.core.register import intake
from tests.conftest import make_pdf

PDF = make_pdf(text="nama")
hostile_name = st.one_of(
    st.text(max_size=300),
    st.builds(lambda parts, ext: "".join(parts) + ext, st.lists(
        st.sampled_from([*"./\\:aZ ", "\x00", "\x1b", "\u202e", "\u0301", "CON", "..", "é"]),
        max_size=40),
        st.sampled_from([".pdf", ".PDF", ".pdf.", ".exe", "", ".pdf\u202e"])),
)


@settings(max_examples=300, deadline=None)
@given(hostile_name)
@example("../../etc/passwd.pdf")
@example("C:\\Windows\\CON.pdf")
@example("\u202efdp.exe")
def test_an_accepted_name_is_safe_and_pathless(name: str) -> None:
    try:
        prepared = intake.prepare([intake.InputFile.from_bytes(name, PDF)], limit_mb=5,
                                  max_image_pixels=10_000_000)
    except InvalidInput as exc:
        assert exc.code in {"file_type_mismatch"}
        shown = exc.message("en")
        assert "/" not in shown.split(" contains ")[0].removeprefix("file ")
        return
    (original,) = prepared.originals
    assert is_safe_component(original.name)
    assert "/" not in original.name and "\\" not in original.name
