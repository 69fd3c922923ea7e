"""``python -m tests.browser.quick_serve serve …``: the ``brankas`` command, with every key it
makes protected at a small scrypt work factor (tests/conftest.quick_key_making), for the long
browser walks, where each holder's and signer's key is opened many times. The product's own
work factor is tested in tests/web/keys and tests/core/test_crypto.py."""

from brankas.cli import main
from tests.conftest import quick_key_making

with quick_key_making():
    main()
