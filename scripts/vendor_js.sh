#!/usr/bin/env bash
# Vendor the browser libraries the web pages use (web/static/vendor/), from pinned npm packages,
# each with its licence. Run after changing a version below; commit the result so `make run`
# and the tests need no network. Needs node + npm and the npm registry.
#
#   scripts/vendor_js.sh            # fetch and copy
#   scripts/vendor_js.sh --check    # fail if the vendored files differ from a fresh fetch
set -euo pipefail
cd "$(dirname "$0")/.."

JSQR=1.4.0                 # QR decoder for the scanner page (Apache-2.0)
QRCODE_GENERATOR=2.0.4     # QR encoder for the resident page (MIT)
SWAGGER_UI_DIST=5.35.0     # Swagger UI served at /docs (Apache-2.0)

DEST=web/static/vendor
CHECK=${1:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fetch() {   # fetch NAME VERSION -> unpacked into $TMP/NAME/package
  local name=$1 version=$2
  mkdir -p "$TMP/$name"
  (cd "$TMP/$name" && npm pack --silent --ignore-scripts "$name@$version" >/dev/null 2>&1 \
     && tar xzf ./*.tgz)
  test -d "$TMP/$name/package" || { echo "could not fetch $name@$version" >&2; exit 1; }
}

OUT="$TMP/out"
mkdir -p "$OUT"

fetch jsqr "$JSQR"
mkdir -p "$OUT/jsqr"
cp "$TMP/jsqr/package/dist/jsQR.js" "$OUT/jsqr/jsQR.js"
cp "$TMP/jsqr/package/LICENSE" "$OUT/jsqr/LICENSE"

fetch qrcode-generator "$QRCODE_GENERATOR"
mkdir -p "$OUT/qrcode-generator"
cp "$TMP/qrcode-generator/package/dist/qrcode.js" "$OUT/qrcode-generator/qrcode.js"
# The package ships no LICENSE file: its licence is MIT (package.json "license" and the source
# header, "Copyright (c) 2009 Kazuhiko Arase"). Keep the header and the MIT text beside it.
{
  echo "qrcode-generator $QRCODE_GENERATOR (https://github.com/kazuhikoarase/qrcode-generator)"
  echo "package.json license: $(node -p "require('$TMP/qrcode-generator/package/package.json').license")"
  echo
  echo "Source header of dist/qrcode.js:"
  sed -n '1,16p' "$TMP/qrcode-generator/package/dist/qrcode.js"
  cat <<'MIT'

The MIT License (MIT)

Copyright (c) 2009 Kazuhiko Arase

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
MIT
} > "$OUT/qrcode-generator/LICENSE"

fetch swagger-ui-dist "$SWAGGER_UI_DIST"
mkdir -p "$OUT/swagger-ui-dist"
for f in swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css LICENSE NOTICE; do
  cp "$TMP/swagger-ui-dist/package/$f" "$OUT/swagger-ui-dist/$f"
done
# The source maps are not vendored: drop the references so browsers do not ask for them.
sed -i '/^\/\/# sourceMappingURL=/d' "$OUT"/swagger-ui-dist/*.js
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$OUT/swagger-ui-dist/swagger-ui.css"

cat > "$OUT/VERSIONS" <<V
# Written by scripts/vendor_js.sh from the npm registry; do not edit by hand.
jsqr $JSQR
qrcode-generator $QRCODE_GENERATOR
swagger-ui-dist $SWAGGER_UI_DIST
V

if [ "$CHECK" = "--check" ]; then
  diff -r "$OUT" "$DEST" && echo "vendored files are up to date"
  exit
fi
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
cp -r "$OUT" "$DEST"
echo "vendored into $DEST:"
(cd "$DEST" && find . -type f | sort)
