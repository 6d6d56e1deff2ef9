#!/usr/bin/env bash
# check_offsets.sh [ROOT [FILE...]]: no hard-coded Go runtime offset outside
# the layout tables (issue 16). Where a runtime struct's field lies is the
# layout contract's business (host/goruntime/layout.h: GR_OFF, GR_SIZE, from
# DWARF or index/layouts/go1.NN.yaml); code that writes the number itself
# breaks silently the day a Go release moves the field. In host/*/*.c,
# outside host/goruntime/layout*.c, it refuses, naming file:line:
#   read:  an integer literal added to the address of a read of the target:
#          the address argument of tgt_mem_read*(mem, ADDR, ...), of
#          rd/rd32/rd64/rd_uint(bytes, OFF, ...) (or a bare literal OFF) and
#          sonde_le*(PTR) (target bytes or a copy of them), the first element
#          of a tgt_iov initialiser: `tgt_mem_read_u64(mem, nl + 16, &head)`,
#          `rd64(gb, 152)`;
#   const: an enum or #define constant set to a literal and named like a
#          runtime field: with a prefix of the contract's ids (NL_, SG_, G_,
#          ..., read from layout.h) or OFF/OFFSET as a word of its name:
#          `NL_HEAD = 16`, `#define GOID_OFFSET 152`.
# A number that is a language or file-format fact, or sonde's own bound,
# says so in a comment on the statement's line(s), and passes:
#   /* abi: string header */   Go's ABI (string 16, slice 24, pointer 8 bytes)
#   /* format: pclntab */      a file or table format (ELF, pclntab, funcdata)
#   /* limit: ... */           a bound of sonde's own (for `const` only)
# With FILEs, checks those instead of the tree (to try a change in /tmp).
set -u

# check_offsets ROOT [FILE...]: prints each violation, returns 1 if any.
check_offsets() {
  local root=$1 f prefixes
  shift
  local files=("$@")
  if [ ${#files[@]} -eq 0 ]; then
    for f in "$root"/host/*/*.c; do
      case $f in */host/goruntime/layout*.c) continue ;; esac
      files+=("$f")
    done
  fi
  # the contract's id prefixes: X(NL_HEAD, ...) gives NL
  prefixes=$(sed -n 's/^[[:space:]]*X(\([A-Z][A-Z0-9]*\)_[A-Z0-9_]*,.*/\1/p' "$root/host/goruntime/layout.h" |
    sort -u | paste -sd '|')
  [ -n "$prefixes" ] || { echo "check_offsets: no X(ID, ...) rows in $root/host/goruntime/layout.h"; return 1; }
  awk -v root="$root/" -v prefixes="$prefixes" '
    function has_literal_addend(s) {
      return s ~ /\+[[:space:]]*(0[xX][0-9a-fA-F]+|[0-9]+)([^0-9a-zA-Z_.]|$)/ ||
             s ~ /(^|[^0-9a-zA-Z_.])(0[xX][0-9a-fA-F]+|[0-9]+)[[:space:]]*\+([^+]|$)/
    }
    # The k-th top-level element of the list that starts at s (just after its
    # opening bracket); "" when there is none.
    function element(s, k,    i, c, lvl, n, start) {
      lvl = 0; n = 1; start = 1
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c ~ /[({[]/) lvl++
        else if (c ~ /[]})]/) { if (lvl == 0) break; lvl-- }
        else if (c == "," && lvl == 0) { if (n == k) return substr(s, start, i - start); n++; start = i + 1 }
      }
      return n == k ? substr(s, start, i - start) : ""
    }
    # The blamed line of offset at in the statement: lines start at lstart[].
    function line_at(at,    j) { for (j = nl; j > 1 && lstart[j] > at; j--); return lno[j] }
    function blame(at, what,    l) {
      l = line_at(at)
      if ((name, l) in blamed) return
      blamed[name, l] = 1
      printf "%s:%d: %s\n", name, l, what
      bad = 1
    }
    # Every read in the statement: its address must not add a literal.
    function check_reads(s,    rest, off, args, k, head, e, j) {
      msg = "a literal added to an address read from the target: take the offset from the layout contract (GR_OFF), or mark a language or format fact (/* abi: ... */, /* format: ... */)"
      rest = s; off = 0
      while (match(rest, /(^|[^a-zA-Z0-9_])(tgt_mem_read[a-z0-9_]*|rd|rd32|rd64|rd_uint|sonde_le[0-9]*)[[:space:]]*\(/)) {
        head = substr(rest, RSTART, RLENGTH); args = substr(rest, RSTART + RLENGTH)
        k = head ~ /sonde_le/ ? 1 : 2
        e = element(args, k)
        # rd*(bytes, OFF): a bare literal offset is as hard-coded as an addend
        if (has_literal_addend(e) || (k == 2 && head !~ /tgt_mem/ && e ~ /^[[:space:]]*(0[xX][0-9a-fA-F]+|[0-9]+)[[:space:]]*$/))
          blame(off + RSTART, msg)
        off += RSTART + RLENGTH - 1; rest = args
      }
      # tgt_iov initialisers, one or an array: the first element of each {...}
      rest = s; off = 0
      while (match(rest, /\(tgt_iov\)[[:space:]]*\{|tgt_iov[[:space:]]+[a-zA-Z0-9_]+(\[[^]]*\])?[[:space:]]*=[[:space:]]*\{/)) {
        off += RSTART + RLENGTH - 1; rest = substr(rest, RSTART + RLENGTH)
        init = "{" rest
        for (j = 1; j <= length(init); j++) {
          if (substr(init, j, 1) != "{") continue
          e = element(substr(init, j + 1), 1)
          if (e !~ /^[[:space:]]*\{/ && has_literal_addend(e)) blame(off + j - 1, msg)
          if (substr(init, j + 1) ~ /^[^{]*\}[[:space:]]*;/) break
        }
      }
    }
    FNR == 1 { in_comment = 0; depth = 0; in_enum = 0; stmt = ""; name = FILENAME
                 if (index(name, root) == 1) name = substr(name, length(root) + 1) }
    {
      line = $0
      # the code of the line: comments, strings and characters blanked
      code = ""; s = line
      while (s != "") {
        if (in_comment) {
          i = index(s, "*/"); if (!i) { s = ""; break }
          s = substr(s, i + 2); in_comment = 0; code = code " "; continue
        }
        if (match(s, /\/\*|\/\/|"|\047/) == 0) { code = code s; break }
        code = code substr(s, 1, RSTART - 1); tok = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        if (tok == "/*") in_comment = 1
        else if (tok == "//") s = ""
        else { # a string or character literal, up to its unescaped end
          while (s != "" && substr(s, 1, 1) != tok) s = substr(s, (substr(s, 1, 1) == "\\") ? 3 : 2)
          s = substr(s, 2); code = code "0"
        }
      }
      marked = line ~ /\/[*\/][[:space:]]*(abi|format|limit):/
      fact = line ~ /\/[*\/][[:space:]]*(abi|format):/

      # read: statements, from their first line to the one that closes their
      # brackets and ends in ";", "{" or "}" (a brace that opens a block at
      # the end of a line is not counted); a definition (at column 0) is not
      # a read
      if (stmt == "" && code ~ /^[[:space:]]/) { nl = 0; stmt_marked = 0 }
      if (stmt != "" || code ~ /^[[:space:]]/) {
        lstart[++nl] = length(stmt) + 1; lno[nl] = FNR
        stmt = stmt code " "; stmt_marked = stmt_marked || fact
        t = code; sub(/\{[[:space:]]*$/, "", t); u = t
        depth += gsub(/[({]/, "", t) - gsub(/[)}]/, "", u)
        if (depth <= 0 && code ~ /([;{}]|^)[[:space:]]*$/) {
          if (!stmt_marked) check_reads(stmt)
          stmt = ""; depth = 0
        }
      }

      # const: enum bodies and #defines
      if (code ~ /(^|[^a-zA-Z0-9_])enum[[:space:]]*[a-zA-Z0-9_]*[[:space:]]*\{/) in_enum = 1
      cand = ""
      if (in_enum) cand = code
      else if (code ~ /^[[:space:]]*#[[:space:]]*define[[:space:]]+[A-Z][A-Z0-9_]*[[:space:]]+[(]?(0[xX][0-9a-fA-F]+|[0-9]+)/) {
        cand = code; sub(/^[[:space:]]*#[[:space:]]*define[[:space:]]+/, "", cand); sub(/[[:space:]]+/, " = ", cand)
      }
      while (!marked && match(cand, /[A-Z][A-Z0-9_]*[[:space:]]*=[[:space:]]*[(]?(0[xX][0-9a-fA-F]+|[0-9]+)/)) {
        id = substr(cand, RSTART, RLENGTH); cand = substr(cand, RSTART + RLENGTH); sub(/[[:space:]]*=.*/, "", id)
        if (id ~ ("^(" prefixes ")_") || id ~ /(^|_)OFF(SET)?(_|$)/) {
          printf "%s:%d: %s looks like a runtime field offset or size: add the field to the layout contract (layout.h) and read it with GR_OFF/GR_SIZE, or mark what it is (/* abi: */, /* format: */, /* limit: */)\n", name, FNR, id
          bad = 1
        }
      }
      if (in_enum && code ~ /\}/) in_enum = 0
    }
    END { exit bad }
  ' "${files[@]}"
}

# Run directly: check the tree (or the FILEs given).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  root=${1:-$(dirname "$0")/..}
  [ $# -gt 0 ] && shift
  if check_offsets "$root" "$@"; then
    echo "offsets ok: no literal added to an address read from the target, no constant named like a runtime field, outside the layout contract"
  else
    exit 1
  fi
fi
