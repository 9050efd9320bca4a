/* exp_mpi.h — the experiments (compare, sweep, validate) across MPI ranks
 * (docs/cluster.md).
 *
 * `mpirun -np N bonesim sweep ...`: every rank starts the same command.
 * Rank 0 runs it as usual (parsing, summary.csv, --resume, statistics),
 * with the job pool's back end (exp_pool.h) replaced by one that hands
 * runs out over MPI; ranks 1..N-1 run no command of their own but a
 * worker loop: receive a run (its argv and folder), start it as a child
 * of this same program exactly as the local pool does, report its exit
 * status back, until rank 0 says the command is over. Rank 0 runs runs
 * too. Each rank runs at most --jobs runs at once (under MPI the default
 * is 1: the ranks are the parallelism). Every run is the same `bonesim
 * run` with the same seed as on one machine, so the results are the same
 * bytes; only the order in which runs finish differs.
 *
 * Rank 0 reads each run's CSV from its folder, so --out must be on a
 * filesystem every rank sees (any cluster's home or scratch); a run
 * reported done whose folder rank 0 cannot see is a failure that says so.
 *
 * Waiting is polling (MPI_Iprobe, waitpid WNOHANG, 20 ms sleeps), never
 * a blocking MPI call, so idle ranks leave the cores to the runs.
 *
 * Without MPI at build time (BONESIM_WITH_MPI=OFF or not found), a launch
 * by mpirun/srun with more than one rank is refused with a clear message
 * instead of N copies of the same sweep writing the same files. */
#ifndef BS_EXP_MPI_H
#define BS_EXP_MPI_H

/* Runs cmd(argc, argv) (an experiment command) on rank 0 with the MPI
 * pool, or the worker loop on other ranks; without an MPI launch just
 * cmd(argc, argv). Returns the exit code. */
int bs_mpi_main(int argc, char **argv, int (*cmd)(int, char **), const char *name);

/* Number of ranks of the running experiment (1 without MPI). */
int bs_mpi_size(void);

/* Rewrites a finished sweep's summary.csv (header, then rows starting
 * with the run index) with its rows in run order, atomically (temporary
 * file, fsync, rename), so a sweep on one machine and the same sweep over
 * MPI ranks give the same bytes whatever order runs finished in. Prints
 * "bonesim sweep: ..." and returns -1 on failure (the file is untouched). */
int bs_summary_sort_by_run(const char *path);

/* 1 if this bonesim was built with MPI. */
int bs_mpi_built(void);

#endif
