"""Background jobs: long work (an activity file of a million rows, later verification and statement batches)
recorded in the database and run by a worker, so no request waits for it and a closed browser does not stop it.

``table`` holds the jobs table (operational state, like the chunk store's: never an event, never exported or
hashed into the chain); ``store`` the one place that reads and writes it (enqueue, the atomic claim, progress,
leases); ``queue`` jobs as users ask for and see them; ``kinds`` what a kind of job is and ``registry`` every kind;
``activity_import`` the first kind; ``worker`` the loop that claims and runs them, as ``openbook worker`` or a
thread of ``openbook serve``. docs/jobs.md tells the design.
"""
