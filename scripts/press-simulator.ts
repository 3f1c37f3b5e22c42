/**
 * The press simulator for the demo: an OPC-UA server with EUROMAP 77-shaped presses whose cycle
 * counters advance on their own (sim/press-simulator.ts).
 *
 *   bash scripts/node24.sh node dist/scripts/press-simulator.js [--port 48400] [--cycle-ms 5000]
 *        [--presses P01=M-1001:4,P02=M-1002:2,P03] [--pki ./data/press-simulator-pki]
 *
 * Environment instead of flags: PRESS_SIM_PORT, PRESS_SIM_CYCLE_MS, PRESS_SIM_PRESSES, PRESS_SIM_PKI,
 * PRESS_SIM_HOST (interface to listen on), PRESS_SIM_HOSTNAME (host in the endpoint URL).
 * A press is CODE[=MOULD[:CAVITIES]][@CYCLE_MS]; without a mould its MouldId is empty.
 * While it runs, lines on stdin drive it: `job P01`, `mould P01 M-1007 [cavities]`, `pause P01`,
 * `resume P01`, `step P01 [n]`, `restart [downSeconds]`, `status`, `quit`.
 */
import path from 'node:path';
import readline from 'node:readline';
import { startPressSimulator, type PressSimulator, type SimulatedPressOptions } from '../sim/press-simulator';

export interface SimulatorCliOptions {
  port: number;
  cycleTimeMs: number;
  presses: SimulatedPressOptions[];
  certificateRoot: string;
  host?: string;
  hostname?: string;
}

const DEFAULT_PRESSES = 'P01,P02,P03,P04,P05,P06';

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`press-simulator: --${name} needs a value`);
  return v;
}

function whole(value: string, what: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`press-simulator: ${what} must be a whole number ≥ ${min}, not "${value}"`);
  return n;
}

/** CODE[=MOULD[:CAVITIES]][@CYCLE_MS], comma separated. */
export function parsePresses(spec: string, cycleTimeMs: number): SimulatedPressOptions[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^([A-Za-z0-9][A-Za-z0-9._/-]*)(?:=([^:@]+)(?::(\d+))?)?(?:@(\d+))?$/.exec(s);
      if (!m) throw new Error(`press-simulator: "${s}" is not CODE[=MOULD[:CAVITIES]][@CYCLE_MS]`);
      return {
        name: m[1],
        mouldId: m[2] ?? '',
        cavities: m[3] ? whole(m[3], `cavities of ${m[1]}`, 1) : 1,
        cycleTimeMs: m[4] ? whole(m[4], `cycle time of ${m[1]}`) : cycleTimeMs,
      };
    });
}

export function cliOptions(argv: string[], env: NodeJS.ProcessEnv): SimulatorCliOptions {
  const known = ['--port', '--cycle-ms', '--presses', '--pki', '--host', '--hostname'];
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.includes(a) && !(i > 0 && known.includes(argv[i - 1])));
  if (unknown.length) throw new Error(`press-simulator: unknown argument ${unknown[0]} (known: ${known.join(' ')})`);
  const cycleTimeMs = whole(flag(argv, 'cycle-ms') ?? env.PRESS_SIM_CYCLE_MS ?? '5000', 'cycle time');
  const presses = parsePresses(flag(argv, 'presses') ?? env.PRESS_SIM_PRESSES ?? DEFAULT_PRESSES, cycleTimeMs);
  if (presses.length === 0) throw new Error('press-simulator: no presses');
  return {
    port: whole(flag(argv, 'port') ?? env.PRESS_SIM_PORT ?? '48400', 'port'),
    cycleTimeMs,
    presses,
    certificateRoot: path.resolve(flag(argv, 'pki') ?? env.PRESS_SIM_PKI ?? path.join(env.TOOLROOM_DATA_DIR || './data', 'press-simulator-pki')),
    host: flag(argv, 'host') ?? env.PRESS_SIM_HOST,
    hostname: flag(argv, 'hostname') ?? env.PRESS_SIM_HOSTNAME,
  };
}

/** One line of stdin: what it did, for the console. */
export async function command(sim: PressSimulator, line: string): Promise<string> {
  const [verb, name, ...rest] = line.trim().split(/\s+/);
  switch (verb) {
    case '':
    case undefined:
      return '';
    case 'job':
      sim.press(name).jobChange();
      return `${name}: job change, JobCycleCounter 0`;
    case 'mould':
      if (!rest[0]) throw new Error('mould <press> <mouldId> [cavities]');
      sim.press(name).mouldChange(rest[0], rest[1] ? whole(rest[1], 'cavities', 1) : undefined);
      return `${name}: mould ${rest[0]} mounted`;
    case 'pause':
      sim.press(name).pause();
      return `${name}: paused`;
    case 'resume':
      sim.press(name).resume();
      return `${name}: running`;
    case 'step':
      sim.press(name).step(rest[0] ? whole(rest[0], 'cycles', 1) : 1);
      return `${name}: ${JSON.stringify(sim.press(name).values(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
    case 'restart':
      await sim.restart({ downMs: name ? whole(name, 'seconds down') * 1000 : 0 });
      return 'server restarted';
    default:
      throw new Error(`unknown command "${verb}" (job, mould, pause, resume, step, restart, status, quit)`);
  }
}

async function main() {
  const options = cliOptions(process.argv.slice(2), process.env);
  const sim = await startPressSimulator(options);
  console.log(`press simulator: ${sim.endpoint}, presses ${options.presses.map((p) => `${p.name}${p.mouldId ? `=${p.mouldId}` : ''}@${p.cycleTimeMs}ms`).join(', ')}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const verb = line.trim().split(/\s+/)[0];
    if (verb === 'quit') return void stop();
    if (verb === 'status') {
      for (const p of options.presses) {
        const v = sim.press(p.name).values();
        console.log(`${p.name}: machine ${v.machineCycleCounter}, job ${v.jobCycleCounter}, mould ${v.mouldId || '-'} (${v.numCavities} cav), ${sim.press(p.name).cycles()} cycles since start`);
      }
      return;
    }
    command(sim, line).then(
      (said) => said && console.log(said),
      (err: Error) => console.error(err.message),
    );
  });
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
