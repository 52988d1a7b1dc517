"""Crash-safe fuzz campaign over kcore: ops, layers, models and file loading.

    python tools/fuzz.py --cases 100000            # release check (about an hour on one core)
    python tools/fuzz.py --cases 2000 --seed 7     # a quick run
    python tools/fuzz.py --seed 7 --replay 1234    # re-run one case in this process, with its traceback

Cases run in a worker subprocess (restarted after a crash or a hang), so a segfault or an
endless loop in kcore is counted, not fatal. The report counts, over all cases:
crashes (the worker died on a signal or exited), hangs (a case ran past --timeout seconds),
unhelpful exceptions (a type other than ValueError/TypeError/NotImplementedError/OSError...,
or a message that names neither the op, the layer nor the file), mismatches (a result NumPy
disagrees with, i.e. a silent wrong answer) and passes; then one example per distinct problem.
Exit status 1 when any crash, hang, unhelpful exception or mismatch was seen.
"""
import argparse
import json
import os
import re
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TAG = "@@FUZZ "
OUTCOMES = ("crash", "hang", "unhelpful", "mismatch", "pass")


def _worker(seed, start, end, kinds, memory_gb):
    """Runs cases start..end-1, reporting each on stdout; the parent restarts us after a crash."""
    import resource
    import warnings

    if memory_gb:
        limit = int(memory_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.path.insert(0, ROOT)
    sys.path.insert(0, HERE)
    warnings.simplefilter("ignore")
    from fuzz_cases import run_case

    import kcore  # noqa: F401  (import once, outside the timed cases)

    out = sys.stdout
    for i in range(start, end):
        out.write(f"{TAG}START {i}\n")
        out.flush()
        kind, outcome, detail = run_case(seed, i, kinds)
        out.write(f"{TAG}DONE {i} {kind} {outcome} {json.dumps(detail)}\n")
        out.flush()


def _spawn(args, start):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--seed", str(args.seed), "--start", str(start),
           "--end", str(args.cases), "--memory-gb", str(args.memory_gb)]
    if args.kinds:
        cmd += ["--kinds", args.kinds]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), PYTHONFAULTHANDLER="")
    env.pop("PYTHONFAULTHANDLER")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            env=env, cwd=ROOT, start_new_session=True)


def _kill(proc):
    try:
        os.killpg(proc.pid, 9)  # the worker's own session: only what we started
    except ProcessLookupError:
        pass
    proc.wait()


def run_campaign(cases, seed=0, timeout=20.0, kinds=None, memory_gb=8.0, progress=None):
    """Runs cases 0..cases-1 of campaign `seed`; returns {"counts", "by_kind", "examples"}."""
    args = argparse.Namespace(cases=cases, seed=seed, timeout=timeout, kinds=kinds, memory_gb=memory_gb)
    counts = dict.fromkeys(OUTCOMES, 0)
    by_kind = {}
    examples = {}  # (outcome, signature) -> (index, detail)
    next_index = 0
    t0 = time.time()

    def record(index, kind, outcome, detail):
        counts[outcome] += 1
        by_kind.setdefault(kind, dict.fromkeys(OUTCOMES, 0))[outcome] += 1
        if outcome != "pass":
            examples.setdefault((outcome, _signature(detail)), (index, detail))
        done = sum(counts.values())
        if progress and done % progress == 0:
            rate = done / max(time.time() - t0, 1e-9)
            print(f"[fuzz] {done}/{cases} cases ({rate:.0f}/s) {counts}", file=sys.stderr, flush=True)

    while next_index < cases:
        proc = _spawn(args, next_index)
        current, started, buf, hung = None, time.time(), b"", False
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    text = line.decode("utf-8", "replace")
                    if not text.startswith(TAG):
                        continue
                    parts = text[len(TAG):].split(" ", 4)
                    if parts[0] == "START":
                        current, started = int(parts[1]), time.time()
                    elif parts[0] == "DONE":
                        record(int(parts[1]), parts[2], parts[3], json.loads(parts[4]))
                        current, next_index = None, int(parts[1]) + 1
            if current is not None and time.time() - started > timeout:
                _kill(proc)
                record(current, _kind_of(seed, current, kinds), "hang", f"case {current} ran over {timeout} s")
                current, next_index, hung = None, current + 1, True
                break
        rc = proc.wait()
        proc.stdout.close()
        if hung:
            continue
        if current is not None:  # died inside a case
            how = f"signal {-rc}" if rc < 0 else f"exit status {rc}"
            record(current, _kind_of(seed, current, kinds), "crash", f"case {current}: worker died ({how})")
            next_index = current + 1
        elif next_index < cases:  # died between cases (e.g. at import): count it and move on, never spin
            record(next_index, _kind_of(seed, next_index, kinds), "crash",
                   f"case {next_index}: worker exited with status {rc} before starting it")
            next_index += 1
    return {"counts": counts, "by_kind": by_kind, "examples": examples, "seconds": time.time() - t0}


def _kind_of(seed, index, kinds):
    sys.path.insert(0, HERE)
    from fuzz_cases import case_kind

    return case_kind(seed, index, kinds.split(",") if isinstance(kinds, str) else kinds)[1][0]


def _signature(detail):
    """Groups problems by cause: the exception text with numbers, shapes and reprs blanked out."""
    tail = detail.split(": ", 1)[-1] if "Error" in detail or "mismatch" in detail else detail
    head = detail.split("(", 1)[0]
    return head + "|" + re.sub(r"[-\d.e+]+|'[^']*'|\"[^\"]*\"|\([^)]*\)|\[[^\]]*\]", "#", tail)[:160]


def format_report(result, seed):
    lines = [f"kcore fuzz campaign, seed {seed}: {sum(result['counts'].values())} cases in "
             f"{result['seconds']:.0f} s"]
    lines.append("  " + ", ".join(f"{k}: {v}" for k, v in result["counts"].items()))
    for kind, c in sorted(result["by_kind"].items()):
        lines.append(f"  {kind:6s} " + ", ".join(f"{k}: {v}" for k, v in c.items()))
    if result["examples"]:
        lines.append(f"distinct problems ({len(result['examples'])}); replay with: "
                     f"python tools/fuzz.py --seed {seed} --replay INDEX")
        for (outcome, _), (index, detail) in sorted(result["examples"].items(), key=lambda kv: kv[1][0]):
            lines.append(f"  [{outcome}] #{index}: {detail[:300]}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=20.0, help="seconds one case may run before it is a hang")
    p.add_argument("--kinds", default=None, help="comma-separated subset of op,layer,model,file")
    p.add_argument("--memory-gb", type=float, default=8.0, help="address-space limit of the worker")
    p.add_argument("--replay", type=int, default=None, help="run one case here and show its outcome")
    p.add_argument("--json", default=None, help="also write the counts and examples to this file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--end", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    kinds = args.kinds.split(",") if args.kinds else None
    if args.worker:
        _worker(args.seed, args.start, args.end, kinds, args.memory_gb)
        return 0
    if args.replay is not None:
        sys.path[:0] = [ROOT, HERE]
        from fuzz_cases import LAST_TRACEBACK, run_case

        kind, outcome, detail = run_case(args.seed, args.replay, kinds)
        print("".join(LAST_TRACEBACK) + f"{kind} case {args.replay}: {outcome}\n{detail}")
        return 0 if outcome == "pass" else 1
    result = run_campaign(args.cases, args.seed, args.timeout, args.kinds, args.memory_gb,
                          progress=max(args.cases // 20, 1))
    print(format_report(result, args.seed))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "counts": result["counts"], "by_kind": result["by_kind"],
                       "examples": [{"outcome": o, "index": i, "detail": d}
                                    for (o, _), (i, d) in result["examples"].items()]}, f, indent=1)
    bad = sum(result["counts"][k] for k in OUTCOMES if k != "pass")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
