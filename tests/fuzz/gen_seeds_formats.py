#!/usr/bin/python3
"""Write the seed corpus of fuzz_formats: OUTDIR (default
tests/fuzz/seeds/fuzz_formats).  Each seed is one selector byte (0 Keras
config, 1 safetensors, 2 GGUF, 3 HDF5; see fuzz_formats.c) followed by a
small valid or malicious input taken from the fixture generators."""
import io
import json
import os
import sys

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import gen_keras as gk          # noqa: E402
import gen_tensorfiles as gt    # noqa: E402


def h5_with(config):
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(gk.TRAINING)
    return bio.getvalue()


def seeds():
    benign = gk.sequential([gk.dense("dense", 2)])
    lam = gk.sequential([gk.lambda_k2("m")])
    yield "keras_benign", 0, json.dumps(benign).encode()
    yield "keras_lambda", 0, json.dumps(gk.functional_with(gk.lambda_k2("m"))).encode()
    yield "keras_k3_lambda", 0, json.dumps(gk.lambda_k3("m")).encode()
    yield "keras_gadget", 0, json.dumps({"module": "keras.utils",
                                         "class_name": "function",
                                         "config": "get_file"}).encode()
    yield "st_valid", 1, gt.st_valid()[0]
    for name, blob, _ in gt.st_invalid():
        if name in ("st_overlap", "st_gap", "st_metadata_not_string"):
            yield name, 1, blob
    small = [kv for kv in gt.gguf_kvs() if kv[0] != "tokenizer.ggml.tokens"]
    yield "gguf_benign", 2, gt.gguf_bytes(small)
    yield "gguf_cve", 2, gt.gguf_bytes(
        small[:-1] + [("tokenizer.chat_template", gt.STRING,
                       gt.OBFUSCATED_TEMPLATE)])
    yield "h5_benign", 3, h5_with(benign)
    yield "h5_lambda", 3, h5_with(lam)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(HERE, "seeds", "fuzz_formats")
    os.makedirs(out, exist_ok=True)
    for name, sel, blob in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([sel]) + blob)


if __name__ == "__main__":
    main()
