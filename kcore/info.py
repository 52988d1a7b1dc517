"""python -m kcore.info: the build configuration and what this machine gives kcore."""
import platform
import sys


def build_info():
    import kcore
    from kcore.backend.native import _C

    info = dict(_C.build_info())
    info.update({"kcore": kcore.__version__, "python": sys.version.split()[0], "machine": platform.machine(),
                 "threads in use": kcore.get_num_threads()})
    info["global dtype policy"] = kcore.mixed_precision.global_policy().name
    features = _C.cpu_features()
    info["bf16 path"] = features["bf16_path"]
    names = ("avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
    info["cpu features"] = ", ".join(k for k in names if features[k]) or "none"
    if features["amx_tile"]:
        info["cpu features"] += " (AMX " + ("permitted" if features["amx_permitted"] else "not permitted by the OS") + \
            "; kcore has no AMX kernel yet)"
    try:
        from kcore import cuda

        available = cuda.is_available()
        info["cuda"] = "available" if available else f"not available ({cuda.unavailable_reason()})"
    except ImportError:
        info["cuda"] = "not available (this kcore has no CUDA support module)"
    return info


def main():
    info = build_info()
    width = max(len(k) for k in info)
    print("kcore build configuration")
    for key, value in info.items():
        print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    main()
