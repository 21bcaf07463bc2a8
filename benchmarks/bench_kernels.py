"""Time ``course_utils.kernels.correlate2d`` against ``scipy.signal.correlate2d``.

Run from the repository root:

    python benchmarks/bench_kernels.py [--size 512] [--repeat 7]

For each kernel size and mode it prints the best-of-``repeat`` time per call of both
implementations (timed alternately) and the speed-up ``scipy / ours`` (> 1 means ours is
faster). It also checks that both give the same result, so a fast but wrong implementation
cannot pass unnoticed.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np
import scipy.signal

from course_utils.kernels import correlate2d

KERNEL_SIZES = (3, 7, 15)
MODES = ("valid", "same")


def best_times(funcs, repeat: int) -> list[float]:
    """Best wall time per call in seconds of each function, over ``repeat`` rounds.

    The functions are timed alternately within each round, so that load from other processes
    on a shared machine hits all of them alike instead of biasing the ratio.
    """
    timers = [timeit.Timer(func) for func in funcs]
    numbers = [timer.autorange()[0] for timer in timers]
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for i, (timer, number) in enumerate(zip(timers, numbers, strict=True)):
            best[i] = min(best[i], timer.timeit(number) / number)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="image side length (pixels)")
    parser.add_argument("--repeat", type=int, default=7, help="timing rounds; the best is kept")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    image = rng.random((args.size, args.size))
    print(f"correlate2d on a {args.size}x{args.size} float64 image, best of {args.repeat}")
    print(f"{'kernel':>8} {'mode':>6} {'scipy [ms]':>11} {'ours [ms]':>10} {'scipy/ours':>11}")
    for k in KERNEL_SIZES:
        kernel = rng.standard_normal((k, k))
        for mode in MODES:
            ours = correlate2d(image, kernel, mode)
            reference = scipy.signal.correlate2d(image, kernel, mode)
            np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-10)
            t_scipy, t_ours = best_times(
                [
                    lambda k=kernel, m=mode: scipy.signal.correlate2d(image, k, m),
                    lambda k=kernel, m=mode: correlate2d(image, k, m),
                ],
                args.repeat,
            )
            print(
                f"{f'{k}x{k}':>8} {mode:>6} {t_scipy * 1e3:11.2f} {t_ours * 1e3:10.2f} "
                f"{t_scipy / t_ours:11.2f}"
            )


if __name__ == "__main__":
    main()
