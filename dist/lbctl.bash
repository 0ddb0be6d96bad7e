# SPDX-License-Identifier: GPL-2.0
# bash completion for lbctl (installed as share/bash-completion/completions/lbctl).
# Nothing is listed here: lbctl offers its commands, interfaces, slots, stages,
# VIPs and policies itself (lbctl --complete, loader/lbctl_complete.c), and each
# command's options are the --words of `lbctl COMMAND --help`, so completion
# follows every new command and option.

_lbctl() {
	local line=${COMP_LINE:0:COMP_POINT} cur words=() candidates=() c prefix
	# Split what is typed ourselves: COMP_WORDS breaks "10.0.0.1:80" at ':'.
	read -ra words <<<"$line"
	if [[ -z $line || $line == *[[:space:]] ]]; then
		words+=("")
	fi
	cur=${words[-1]}
	if [[ $cur == -* ]]; then
		if ((${#words[@]} <= 2)); then
			candidates=(--help --version)
		else
			mapfile -t candidates < <("${words[0]}" "${words[1]}" --help 2>/dev/null |
				grep -oE -- '--[a-z][a-z-]*' | sort -u)
			candidates+=(--help)
		fi
		for c in "${candidates[@]}"; do
			[[ $c == "$cur"* ]] && COMPREPLY+=("$c")
		done
	else
		mapfile -t candidates < <("${words[0]}" --complete "${words[@]:1}" 2>/dev/null)
		# readline replaces only the part of the word after its last ':'.
		prefix=${cur%"${cur##*:}"}
		for c in "${candidates[@]}"; do
			c=${c#"$prefix"}
			# A '*' (a VIP of every port) must reach lbctl as it is.
			COMPREPLY+=("${c//\*/\\*}")
		done
	fi
	# A VIP, slot or policy is one word: a space after it.
	return 0
}
complete -F _lbctl lbctl
