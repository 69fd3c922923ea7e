#!/bin/sh
# Make sure the Debian packages the tests or benchmarks need are installed.
# As root: installs them with apt-get. Otherwise: names what to install and fails.
# Usage: system-deps.sh age chromium ...
missing=""
for pkg in "$@"; do
  case "$pkg" in
    chromium) cmd=/usr/bin/chromium ;;
    gettext) cmd=xgettext ;;
    poppler-utils) cmd=pdftotext ;;
    postgresql) cmd=pg_ctl ;;
    smartmontools) cmd=smartctl ;;  # optional for Brankas itself; the tests call it once
    tesseract-ocr) cmd=tesseract ;;
    *) cmd=$pkg ;;
  esac
  # Debian keeps PostgreSQL's server programs off PATH, in /usr/lib/postgresql/<version>/bin.
  if [ "$pkg" = postgresql ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then continue; fi
  # A language's data is no command: ask Tesseract for its list (tesseract-ocr-ind: ind).
  case "$pkg" in
    tesseract-ocr-*)
      tesseract --list-langs 2>/dev/null | grep -qx "${pkg#tesseract-ocr-}" || missing="$missing $pkg"
      continue ;;
  esac
  if ! command -v "$cmd" >/dev/null 2>&1; then missing="$missing $pkg"; fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages:$missing"
  apt-get update -qq || exit 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 1
  exit 0
fi
echo "brankas: missing system packages:$missing" >&2
echo "brankas: install them first, e.g.: sudo apt-get install$missing" >&2
exit 1
