/* bench.h — `bonesim bench`: the benchmark suite (issue 7).
 *
 * Workloads, each printing one JSON object per line on stdout with the
 * conditions it ran under (lattice, fields, agents, threads, steps,
 * repeats, commit, CPU, load average) and medians over --repeat runs:
 *   fields    the field solver alone, replaying recorded model steps:
 *             site-field-updates/s, sweep throughput and effective
 *             bandwidth next to a STREAM triad and a double ADI step
 *             measured in the same run;
 *   agents    the agent phase alone (the model's tile loop and rules,
 *             timed by its own t_agents_s) on a fixed population, the same
 *             world rebuilt for every repeat: agent-updates/s;
 *   scenario  full runs of the default scenario and of larger lattices:
 *             simulated days per wall second, time per phase, peak RSS,
 *             bytes per site and per agent slot;
 *   scaling   the same at several thread counts (parallel efficiency) and
 *             lattice sizes (cost per site).
 * Progress goes to stderr. No workload checks a time: the benchmark is a
 * measuring tool (bench/README.md has the latest figures).
 *
 * Not safe to call from a parallel region; sets the OpenMP thread count. */
#ifndef BS_BENCH_H
#define BS_BENCH_H

/* argv holds the arguments after the command name, as for the other
 * subcommands: main dispatches `bonesim bench ...` as
 * bs_bench_main(argc - 2, argv + 2). "--help" prints the usage to stdout.
 * Returns an exit code: 0 done, 1 error (out of memory, scenario not
 * loadable), 2 bad usage. */
int bs_bench_main(int argc, char **argv);

#endif
