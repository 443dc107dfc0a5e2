"""Imported by the training forkserver only (ui/train_process.py preloads it): the first-call costs every child
paid, paid once in the forkserver, whose memory each child starts from.

A fresh child's first training spent ≈ 60 ms of CPU before its first useful step (threadpoolctl scanning the
loaded libraries, Python's and numpy's first-use caches), and an EoS job starts two children (the run, then its
flow): a one-step training's child cost 75 ms of CPU, 13 ms with this.
"""

from threadpoolctl import threadpool_limits

from ui import train_process

# One BLAS thread (as in the server, ui/runtime.py: threads made these small products 5× slower), inherited by
# every child.
BLAS_LIMIT = threadpool_limits(limits=1)
train_process.prime()
