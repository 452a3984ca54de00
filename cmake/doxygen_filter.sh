#!/bin/sh
# Doxygen INPUT_FILTER for recur's headers: their comments are plain // and /* */ (house style),
# which Doxygen ignores; read them as documentation. A comment line before a declaration
# becomes ///, a comment after a member ///< (with the lines aligned under it), /* becomes /**.
exec awk '
{
  line = $0
  c = index(line, "//")
  code = c > 0 ? substr(line, 1, c - 1) : line
  if (c > 0 && code ~ /^[ \t]*$/) {                 # a comment-only line
    if (trailing && c == column) sub(/\/\/ ?/, "///< ", line)
    else { sub(/\/\/ ?/, "/// ", line); trailing = 0 }
  } else if (c > 0 && code ~ /[;,{][ \t]*$/ && substr(line, c, 3) != "///") {
    line = code "///< " substr(line, c + 3)       # a comment after a member
    trailing = 1; column = c
  } else {
    trailing = 0
    if (line ~ /[;,][ \t]+\/\* /) sub(/\/\* /, "/**< ", line)
    else if (line ~ /^[ \t]*\/\* / && line !~ /\/\* ----/) sub(/\/\* /, "/** ", line)
  }
  print line
}' "$1"
