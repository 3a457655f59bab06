"""Turn a GGUF model into a Hugging Face checkpoint that vLLM can load.

vLLM loads Hugging Face checkpoints; the embedded engine's model ships as a
quantized GGUF. transformers reads GGUF (with the ``gguf`` package) by
dequantizing it; the loaded model remembers that it came from a quantized file,
and ``save_pretrained`` refuses quantized models, so that mark is dropped
before saving in bfloat16 (about 260 MB for SmolLM2-135M).

Usage (in the environment ``make vllm-cpu`` builds)::

    python -m beam_swallow.inference.convert --output .cache/smollm2-hf [--gguf PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["convert", "main"]


def convert(gguf: str, output: str, dtype: str = "bfloat16") -> Path:
    """Dequantize ``gguf`` and save model and tokenizer under ``output``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = Path(gguf)
    model = AutoModelForCausalLM.from_pretrained(
        str(source.parent), gguf_file=source.name, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    for holder in (model, model.config):
        for name in ("hf_quantizer", "quantization_config"):
            if hasattr(holder, name):
                delattr(holder, name)
    model.is_quantized = False
    model = model.to(getattr(torch, dtype))
    model.config.dtype = dtype
    target = Path(output)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    return target


def main(argv: list[str] | None = None) -> int:
    from beam_swallow.inference.gguf import default_gguf

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", default=None, help="GGUF file (default: the embedded model)")
    parser.add_argument("--output", required=True, help="Directory for the HF checkpoint")
    parser.add_argument("--dtype", default="bfloat16", help="Saved weight dtype")
    args = parser.parse_args(argv)
    target = convert(args.gguf or default_gguf(), args.output, args.dtype)
    print(f"saved {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
