# GOption's --help-all output reshaped for help2man (see man/make-page):
# usage on one line, the command's own options first, the help options last.
function flush_group() {
  if (group == "") return
  if (group == "Application Options:") main = main "Options:\n" body
  else if (group == "Help Options:") help = group "\n" body
  else rest = rest group "\n" body
  group = ""; body = ""
}
/^Usage:$/ { usage = 1; next }
usage {
  usage = 0
  sub(/^ +/, ""); sub(/ - .*$/, "")
  head = head "Usage: " $0 "\n"
  next
}
/^[A-Z][A-Za-z ]*[Oo]ptions:$/ { flush_group(); group = $0; next }
group != "" {
  body = body $0 "\n"
  if ($0 == "") flush_group()
  next
}
{ if (main == "" && rest == "") head = head $0 "\n"; else tail = tail $0 "\n" }
# Text GOption prints after the options (its "description") describes the
# command: it goes with the summary, before the options.
END {
  flush_group()
  if (tail != "" && tail !~ /\n\n$/) tail = tail "\n"
  printf "%s%s%s%s%s", head, tail, main, rest, help
}
