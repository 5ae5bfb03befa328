#!/usr/bin/env bash
# Regenerates data/raw/ from the Debian packages it came from (see README.md beside this file).
# Needs no root: `apt-get download` + `dpkg -x` unpack into a temporary folder; nothing is
# installed. The outputs are committed, so a fresh clone never needs to run this.
#
#   bash data/raw/fetch.sh            # refresh data/raw/ in place
#   bash data/raw/fetch.sh --check    # fetch into a temporary folder and diff against data/raw/
set -euo pipefail

RAW="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
OUT="$RAW"
if [[ "${1:-}" == "--check" ]]; then OUT="$WORK/out"; fi

# Versions the committed files were taken from (Debian 12 "bookworm"); newer ones are accepted
# by apt-get download, and --check shows whether anything changed.
PKGS=(python3-sklearn wordnet-base)
(cd "$WORK" && apt-get download "${PKGS[@]}" >/dev/null)
for deb in "$WORK"/*.deb; do dpkg -x "$deb" "$WORK/root"; done
dpkg-deb -f "$WORK"/python3-sklearn_*.deb Version >"$WORK/sklearn.version"
dpkg-deb -f "$WORK"/wordnet-base_*.deb Version >"$WORK/wordnet.version"

SK="$WORK/root/usr/lib/python3/dist-packages/sklearn/datasets"
WN="$WORK/root/usr/share/wordnet"
mkdir -p "$OUT/sklearn/descr" "$OUT/wordnet"

# scikit-learn's bundled copies of the UCI / Efron tables, byte for byte.
cp "$SK/data/digits.csv.gz" "$SK/data/breast_cancer.csv" \
   "$SK/data/diabetes_data_raw.csv.gz" "$SK/data/diabetes_target.csv.gz" "$OUT/sklearn/"
cp "$SK/descr/digits.rst" "$SK/descr/breast_cancer.rst" "$SK/descr/diabetes.rst" "$OUT/sklearn/descr/"
cp "$WORK/root/usr/share/doc/python3-sklearn/copyright" "$OUT/sklearn/COPYRIGHT.debian"
cp "$WORK/sklearn.version" "$OUT/sklearn/VERSION"

# WordNet 3.0: the hyponym closure of four medical concepts, one synset per line:
#   category <TAB> synset offset <TAB> parent offset <TAB> depth <TAB> lemmas (|-separated)
# Roots: disease.n.01 14070360, drug.n.01 03247620, symptom.n.01 14299637, organ.n.01 05297523.
python3 - "$WN/data.noun" "$OUT/wordnet/medical_isa.tsv" <<'PY'
import sys
data, out = sys.argv[1], sys.argv[2]
synsets = {}
with open(data, encoding="latin-1") as f:
    for line in f:
        if line.startswith("  "):
            continue  # licence header
        fields = line.split(" | ")[0].split()
        offset, w_cnt = fields[0], int(fields[3], 16)
        words = [fields[4 + 2 * i] for i in range(w_cnt)]
        p = 4 + 2 * w_cnt
        p_cnt = int(fields[p])
        hyponyms = []
        for k in range(p_cnt):
            sym, target, pos = fields[p + 1 + 4 * k: p + 4 + 4 * k]
            if sym in ("~", "~i") and pos == "n":
                hyponyms.append(target)
        synsets[offset] = (words, hyponyms)
roots = [("disease", "14070360"), ("drug", "03247620"), ("symptom", "14299637"), ("organ", "05297523")]
rows = []
for category, root in roots:
    seen = {root}
    frontier = [(root, "-", 0)]
    while frontier:  # breadth first, children in file order: deterministic
        nxt = []
        for offset, parent, depth in frontier:
            words, hyponyms = synsets[offset]
            lemmas = "|".join(w.replace("_", " ") for w in words)
            rows.append(f"{category}\t{offset}\t{parent}\t{depth}\t{lemmas}")
            for h in hyponyms:
                if h not in seen:
                    seen.add(h)
                    nxt.append((h, offset, depth + 1))
        frontier = nxt
with open(out, "w", encoding="utf-8", newline="\n") as f:
    f.write("category\tsynset\tparent\tdepth\tlemmas\n")
    f.write("\n".join(rows) + "\n")
PY
sed -n '/^License: WordNet3.0/,/^Files: debian/p' "$WORK/root/usr/share/doc/wordnet-base/copyright" \
  | sed '$d' >"$OUT/wordnet/LICENSE"
cp "$WORK/wordnet.version" "$OUT/wordnet/VERSION"

if [[ "${1:-}" == "--check" ]]; then
  diff -r --exclude=README.md --exclude=fetch.sh "$OUT" "$RAW" && echo "data/raw is up to date"
fi
