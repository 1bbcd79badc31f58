#!/bin/sh
# TAP: every C file in the tree matches .clang-format.
cd "$(dirname "$0")/../.." || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find engine host tests -name '*.[ch]')
echo "1..1"
bad=$(for f in $files; do clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$bad" ]; then
  echo "# not formatted (run 'make format'):"
  echo "$bad" | sed 's/^/#   /'
  echo "not ok 1 - clang-format"
  exit 1
fi
echo "ok 1 - clang-format"
