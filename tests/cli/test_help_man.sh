#!/bin/sh
# The CLI's --help texts and manushya(1) describe the same program: every command group,
# command and option that `manushya --help`, `manushya GROUP --help` and
# `manushya GROUP COMMAND --help` show is in man/manushya.1, and every one the page documents
# is in the help. Each check lists what is in one but not the other.
#
#   global options   manushya --help's, against the tags of the page's GLOBAL OPTIONS
#   groups, commands the help's, against the page's COMMANDS: its .SS groups, and the commands
#                    that start a .SY synopsis or a .TP tag there ("memory add ...")
#   a command's options  each must be in that command's paragraphs of the page (from its
#                    synopsis or tag to the next command's); and every option the page gives
#                    a group must be an option of one of its commands, or a global one
. "$MN_TOP/tests/cli/lib.sh"
cli_setup help-man

# ---- the help texts: one file per command, what precedes its "global options" block --------
mkdir help
"$M" --help >help/main || { fail "manushya --help"; exit 1; }
own_help() { # FILE ARGS...: manushya ARGS --help, without the global options all of them repeat
    f=$1; shift
    "$M" "$@" --help | sed '/^global options (accepted/,$d' >"$f"
}
for g in $(sed -n '/^groups:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' help/main); do
    own_help "help/$g" "$g"
    cmds=$(sed -n '/^commands:/,/^$/s/^  [a-z][a-z0-9-]* \([a-z][a-z0-9-]*\).*/\1/p' "help/$g")
    if [ -z "$cmds" ]; then
        echo "$g" >>commands
    else
        for c in $cmds; do
            own_help "help/$g $c" "$g" "$c"
            echo "$g $c" >>commands
        done
    fi
done
check "the help lists command groups and commands" [ -s commands ]

# ---- compare with the man page -------------------------------------------------------------
# Groups a build may leave out (make WITH_SERVE=0): the page documents them all the same.
left_out=""
cli_has serve || left_out="serve"
python3 - "$MN_TOP/man/manushya.1" $left_out <<'EOF' || fail "comparing the help with manushya(1)"
import re, sys

OPT = re.compile(r"--[a-z][a-z0-9-]*")

def text(line):
    """A man line as it reads: no request name, font changes, escapes or quotes."""
    if line.startswith("."):
        line = line.split(None, 1)[1] if " " in line else ""
    for esc, plain in (("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'), ("\\e", "\\"),
                       ("\\%", ""), ("\\ ", " ")):
        line = line.replace(esc, plain)
    return re.sub(r"\\f[BIRP]", "", line).replace('"', "")

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")

# Sections by .SH name.
sections, name = {}, None
for ln in lines:
    if ln.startswith(".SH "):
        name = text(ln).strip()
        sections[name] = []
    elif name:
        sections[name].append(ln)

def tags(body):
    """The lines a .TP makes into tags."""
    return [text(body[i + 1]) for i, ln in enumerate(body[:-1]) if ln.startswith(".TP")]

man_globals = {o for t in tags(sections.get("GLOBAL OPTIONS", [])) for o in OPT.findall(t)}

# COMMANDS: .SS GROUP, then commands (a synopsis, or a tag that starts with the group's name)
# each owning the lines up to the next one.
man_groups, man_cmds, group_opts, cmd_lines = set(), {}, {}, None
body = sections.get("COMMANDS", [])
for i, ln in enumerate(body):
    if ln.startswith(".SS "):
        group = text(ln).strip()
        man_groups.add(group)
        group_opts.setdefault(group, set())
        cmd_lines = None
        continue
    head = None
    if ln.startswith(".SY"):
        head = text(ln)
    elif i > 0 and body[i - 1].startswith(".TP"):
        head = text(ln)
    if head is not None:
        words = head.split()
        if words and words[0] == "manushya":
            words = words[1:]
        if words and words[0] == group:
            cmd = group
            if len(words) > 1 and re.fullmatch(r"[a-z][a-z0-9-]*", words[1]):
                cmd += " " + words[1]
            cmd_lines = man_cmds.setdefault(cmd, [])
    if cmd_lines is not None:
        cmd_lines.append(text(ln))
    if man_groups:
        group_opts[group].update(OPT.findall(text(ln)))

for group in sys.argv[2:]:  # documented, not built
    man_groups.discard(group)
    group_opts.pop(group, None)
    for cmd in [c for c in man_cmds if c.split()[0] == group]:
        del man_cmds[cmd]

# The help.
main = open("help/main", encoding="utf-8").read()
help_globals = set(OPT.findall(main.split("global options (accepted", 1)[1]))
help_cmds = open("commands", encoding="utf-8").read().split("\n")[:-1]
help_groups = {c.split()[0] for c in help_cmds}
all_globals = help_globals | man_globals

def report(fname, items):
    with open(fname, "w", encoding="utf-8") as f:
        for item in sorted(items):
            f.write(item + "\n")

report("globals_not_in_man", help_globals - man_globals)
report("globals_not_in_help", man_globals - help_globals)
report("groups_not_in_man", help_groups - man_groups)
report("groups_not_in_help", man_groups - help_groups)
report("commands_not_in_man", set(help_cmds) - set(man_cmds))
report("commands_not_in_help", set(man_cmds) - set(help_cmds))

missing, help_group_opts = [], {}
for cmd in help_cmds:
    own = set(OPT.findall(open("help/" + cmd, encoding="utf-8").read())) - all_globals
    help_group_opts.setdefault(cmd.split()[0], set()).update(own)
    page = " ".join(man_cmds.get(cmd, []))
    missing += ["%s %s" % (cmd, o) for o in own if o not in OPT.findall(page)]
report("options_not_in_man", missing)
report("options_not_in_help",
       ["%s %s" % (g, o) for g, opts in group_opts.items()
        for o in opts - all_globals - help_group_opts.get(g, set())])
EOF

same() { # WHAT FILE: passes when FILE is empty, else lists it
    if [ ! -s "$2" ]; then pass "$1"; else fail "$1; these are not:"; sed 's/^/#   /' "$2"; fi
}
same "manushya(1) has every global option of manushya --help" globals_not_in_man
same "manushya --help has every global option of manushya(1)" globals_not_in_help
same "manushya(1) has every command group of manushya --help" groups_not_in_man
same "manushya --help has every command group of manushya(1)" groups_not_in_help
same "manushya(1) has every command of manushya GROUP --help" commands_not_in_man
same "the help has every command of manushya(1)" commands_not_in_help
same "manushya(1) has every option of each command's --help, under that command" \
    options_not_in_man
same "each option manushya(1) gives a group is in one of its commands' --help" \
    options_not_in_help
cli_finish
