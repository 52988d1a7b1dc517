"""kcore.distribution: DataParallel over MPI equals one process on the global batch.

The MPI tests launch tests/dist/train_cases.py under `mpiexec -n 2` and `-n 3` (loopback) and compare
rank 0's final weights, loss histories, evaluation and predictions with a plain one-process run of the
same script. They skip when mpi4py or mpiexec is missing; a timeout makes a hang fail fast."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import kcore
from kcore import distribution as dist
from kcore.distribution.sharding import shard_bounds

SCRIPT = os.path.join(os.path.dirname(__file__), "dist", "train_cases.py")
TIMEOUT = 120


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_", "HYDI_"))}
    root = os.path.dirname(os.path.dirname(os.path.abspath(kcore.__file__)))  # the kcore under test
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.path.exists(here) else shutil.which("mpiexec")


def _run(cmd, cwd, **env):
    proc = subprocess.run(cmd, cwd=cwd, env={**_env(), **env}, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("single")
    _run([sys.executable, SCRIPT, str(tmp / "out.npz"), str(tmp)], tmp)
    return np.load(tmp / "out.npz")


def _distributed(n, tmp_path, **env):
    pytest.importorskip("mpi4py")
    mpiexec = _mpiexec()
    if mpiexec is None:
        pytest.skip("no mpiexec (pip install mpich)")
    _run([mpiexec, "-n", str(n), sys.executable, SCRIPT, str(tmp_path / "out.npz"), str(tmp_path)], tmp_path, **env)
    return np.load(tmp_path / "out.npz")


def _assert_same_as_single(single, multi):
    keys = [k for k in single.files if not k.startswith("dist_")]
    assert len(keys) > 40 and set(keys) <= set(multi.files)
    for key in keys:
        a, b = single[key].astype(np.float64), multi[key].astype(np.float64)
        assert a.shape == b.shape, key
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7, err_msg=key)


@pytest.mark.parametrize("n", [2, 3])
def test_data_parallel_equals_one_process(single, tmp_path, n):
    multi = _distributed(n, tmp_path)
    _assert_same_as_single(single, multi)
    # EarlyStopping stopped every rank at the same epoch (before the 30 asked for)
    assert multi["dist_epochs"].tolist() == [int(single["early_epochs"])] * n and single["early_epochs"] < 30
    # one checkpoint writer: rank 0 saved every epoch, the other ranks never ran the callback
    assert multi["dist_ckpt_calls"].tolist() == [int(single["early_epochs"])] + [0] * (n - 1)
    assert os.path.exists(tmp_path / "ckpt.weights.h5")
    # mismatched dataset sizes raised the same ValueError on every rank
    assert multi["dist_mismatch_raised"].tolist() == [True] * n
    # a generator that runs out early on one rank ends the epoch on every rank (2 steps, no hang)
    assert multi["dist_generator_steps"].tolist() == [2] * n
    # evaluate / predict run rank 0's weights everywhere (different ones were set on each rank)
    np.testing.assert_allclose(multi["dist_eval"], [float(multi["dist_local_eval"])] * n, rtol=1e-5)
    for r in range(n):
        np.testing.assert_allclose(multi["dist_pred"][r], multi["dist_local_pred"], rtol=1e-5, atol=1e-6)
    assert bool(multi["dist_train_on_batch_raised"])
    # BatchNormalization defaults to local statistics: rank r's moving mean is the mean of its shard
    x = np.random.default_rng(0).normal(size=(40, 5)).astype("float32")[:10]
    for r in range(n):
        lo, hi = shard_bounds(10, n, r)
        np.testing.assert_allclose(multi["dist_bn_local_means"][r], x[lo:hi].mean(axis=0), rtol=1e-5, atol=1e-6)
    # the replicas ended identical; dropout masks differ between ranks even with a fixed seed
    assert len(set(multi["dist_weights_equal"].tolist())) == 1
    masks = multi["dist_dropout_masks"]
    assert all(not np.array_equal(masks[0], masks[r]) for r in range(1, n))


def test_a_failing_rank_ends_the_job_instead_of_hanging(tmp_path):
    pytest.importorskip("mpi4py")
    mpiexec = _mpiexec()
    if mpiexec is None:
        pytest.skip("no mpiexec (pip install mpich)")
    script = os.path.join(os.path.dirname(SCRIPT), "rank_fails.py")
    proc = subprocess.run([mpiexec, "-n", "2", sys.executable, script], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "rank 1 fails on purpose" in proc.stderr + proc.stdout


def test_shard_bounds_cover_the_batch_in_order():
    for n in range(0, 9):
        for size in (1, 2, 3, 4):
            parts = [shard_bounds(n, size, r) for r in range(size)]
            assert parts[0][0] == 0 and parts[-1][1] == n
            assert all(parts[r][1] == parts[r + 1][0] for r in range(size - 1))
            assert max(hi - lo for lo, hi in parts) - min(hi - lo for lo, hi in parts) <= 1
    assert [shard_bounds(1, 3, r) for r in range(3)] == [(0, 1), (1, 1), (1, 1)]


def test_one_process_api_is_a_no_op_and_never_imports_mpi4py():
    code = ("import sys, kcore\nfrom kcore import distribution as d\nd.initialize()\n"
            "print(d.process_id(), d.num_processes(), d.local_rank(), d.list_devices(), 'mpi4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["0", "1", "0", "['cpu:0']", "False"], out.stderr


def test_set_distribution_checks_its_argument():
    with pytest.raises(TypeError, match="DataParallel"):
        dist.set_distribution("data_parallel")
    with pytest.raises(ValueError, match="num_processes=4 but the MPI world has 1"):
        dist.initialize(num_processes=4)
    with pytest.raises(ValueError, match="process_id=2 but this process is MPI rank 0"):
        dist.initialize(process_id=2)


def test_data_parallel_in_one_process_matches_plain_fit():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(13, 4)).astype("float32"), rng.normal(size=(13, 2)).astype("float32")

    def run(distributed):
        kcore.utils.set_random_seed(5)
        model = kcore.Sequential([kcore.layers.Input((4,)), kcore.layers.Dense(3, activation="relu"),
                                  kcore.layers.Dense(2)])
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        if distributed:
            dist.set_distribution(dist.DataParallel())
        try:
            history = model.fit(x, y, batch_size=5, epochs=2, verbose=0)
            return model.get_weights(), history.history, model.predict(x, batch_size=4, verbose=0)
        finally:
            dist.set_distribution(None)

    (w1, h1, p1), (w2, h2, p2) = run(False), run(True)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(b, a, rtol=1e-6)
    assert h1.keys() == h2.keys()
    for k in h1:
        np.testing.assert_allclose(h2[k], h1[k], rtol=1e-6)
    np.testing.assert_allclose(p2, p1, rtol=1e-6)


def test_nccl_needs_the_cuda_extension():
    from kcore.distribution.comm import LocalComm
    from kcore.distribution.nccl import NcclComm, find_libnccl

    assert isinstance(find_libnccl(), str)
    if kcore.cuda.is_available():
        pytest.skip("a GPU is present: test_data_parallel_on_gpus covers NCCL")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        NcclComm(LocalComm())


def test_one_gpu_per_rank(monkeypatch):
    from kcore.distribution.nccl import pin_gpu_per_rank

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setitem(kcore.cuda._state, "tried", False)
    pin_gpu_per_rank(2)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "2"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")  # the user's choice wins
    pin_gpu_per_rank(1)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5"


def test_data_parallel_on_gpus(tmp_path):
    """NCCL: 2 ranks, one GPU each, equal one process on the global batch (MLP cases)."""
    if not kcore.cuda.is_available() or kcore.cuda.require().device_count() < 2:
        pytest.skip("needs the CUDA extension and 2 GPUs")
    single_dir = tmp_path / "single"
    single_dir.mkdir()
    _run([sys.executable, SCRIPT, str(single_dir / "out.npz")], single_dir, KCORE_TEST_DEVICE="cuda")
    multi = _distributed(2, tmp_path, KCORE_TEST_DEVICE="cuda")
    single = np.load(single_dir / "out.npz")
    for key in single.files:
        np.testing.assert_allclose(multi[key], single[key], rtol=1e-5, atol=1e-7, err_msg=key)


def test_scope_sets_the_distribution_for_its_block():
    assert dist.distribution() is None
    strategy = dist.DataParallel()
    with strategy.scope():
        assert dist.distribution() is strategy
    assert dist.distribution() is None
    with pytest.raises(ValueError, match="unknown arguments"):
        dist.DataParallel(layout_map={})
