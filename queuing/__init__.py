"""What Node, Kue and Express gave the original scripts for free.

The numbered scripts at the root hold the lessons; this package holds the
machinery they share, one module per concern:

- ``connection``: where Redis is ($REDIS_URL) and the clients built for it;
- ``cli``: how a script ends: Ctrl-C and SIGTERM exit 0, errors are one
  line, never a traceback;
- ``kue``: Kue's job ids, job events and job options on top of RQ;
- ``scheduling``: where and when a job goes into its queue: Kue's
  priorities, delays and backoffs;
- ``workers``: RQ workers hardened to run Kue's ``queue.process``, and the
  worker a web server runs in a thread;
- ``web``: Express's ``res.json`` bodies and JSON-only errors for Flask.
"""
