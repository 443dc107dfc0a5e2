"""Process-wide settings, applied once when app.py first imports this module.

One BLAS thread (and the training processes' forkserver started early, below). The matrices here
are small (at most 1,000 × 1,000, mostly far less), the server runs many sessions at once on few
cores, and OpenBLAS's worker threads spinning against other sessions made the EoS page's gradient
flow 4× slower (8.9 s → 2.2 s measured on 2 cores). scipy ships its own OpenBLAS: it is imported
first so that the limit covers both libraries.
"""

import scipy.integrate  # noqa: F401
import scipy.linalg  # noqa: F401
import scipy.sparse.linalg  # noqa: F401
from threadpoolctl import threadpool_limits

BLAS_LIMIT = threadpool_limits(limits=1)

# The forkserver that EoS trainings run in (ui/train_process.py) imports core.training, ≈ 0.6 s: started
# now, in the background, so the first visitor who trains does not wait for it.
import threading  # noqa: E402

from ui import train_process  # noqa: E402

threading.Thread(target=train_process.warm, name="forkserver-warm", daemon=True).start()
