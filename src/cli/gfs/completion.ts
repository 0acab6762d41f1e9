// gfs completion bash|zsh: a completion script made from the program's own commands and
// options, so it never falls behind them. Arguments that are not options complete as local
// file names (remote paths would need the master at every keystroke).
import { Argument, type Command } from 'commander';

const SHELLS = ['bash', 'zsh'] as const;

interface Spec {
  readonly commands: Array<{ name: string; about: string; flags: string[] }>;
  readonly globals: string[];
  /** Global options that take a value: the word after one is no command. */
  readonly valued: string[];
}

function spec(program: Command): Spec {
  const flagsOf = (c: Command) => c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => typeof f === 'string'));
  return {
    commands: program.commands.filter((c) => c.name() !== 'help').map((c) => ({ name: c.name(), about: c.description(), flags: [...flagsOf(c), '--help'] })),
    globals: [...flagsOf(program), '--help'],
    valued: program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long].filter((f): f is string => typeof f === 'string')),
  };
}

function bash(s: Spec): string {
  const cases = s.commands.map((c) => `    ${c.name}) words="${c.flags.join(' ')}" ;;`).join('\n');
  return `# gfs completion for bash: source <(gfs completion bash), or save it under /etc/bash_completion.d/
_gfs() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" words="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${s.valued.join('|')}) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then words="${s.globals.join(' ')}"; else words="${s.commands.map((c) => c.name).join(' ')}"; fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return
  fi
  [[ "$cur" == -* ]] || return
  case "$cmd" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _gfs gfs
`;
}

const zq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

function zsh(s: Spec): string {
  const described = s.commands.map((c) => `    ${zq(`${c.name}:${c.about.replace(/:/g, '\\:')}`)}`).join('\n');
  const cases = s.commands.map((c) => `    ${c.name}) [[ $PREFIX == -* ]] && compadd -- ${c.flags.join(' ')} || _files ;;`).join('\n');
  return `#compdef gfs
# gfs completion for zsh: source <(gfs completion zsh) after compinit, or save it as _gfs in a folder of $fpath
_gfs() {
  local -a commands
  commands=(
${described}
  )
  local cmd="" i
  for ((i = 2; i < CURRENT; i++)); do
    case $words[i] in
      ${s.valued.join('|')}) ((i++)) ;;
      -*) ;;
      *) cmd=$words[i]; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    [[ $PREFIX == -* ]] && compadd -- ${s.globals.join(' ')} || _describe 'gfs command' commands
    return
  fi
  case $cmd in
${cases}
    *) _files ;;
  esac
}
if [[ $funcstack[1] == _gfs ]]; then _gfs "$@"; else compdef _gfs gfs; fi
`;
}

export function addCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for bash or zsh: source <(gfs completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: string) => {
      const script = shell === 'bash' ? bash(spec(program)) : zsh(spec(program));
      process.stdout.write(program.opts<{ json?: boolean }>().json ? JSON.stringify({ status: 'ok', shell, script }) + '\n' : script);
    });
}
