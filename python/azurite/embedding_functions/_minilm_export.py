"""A torch-free exporter: all-MiniLM-L6-v2's safetensors weights → a float32 ONNX graph.

The graph is a plain BERT encoder written with standard ONNX operators (opset 17). Its
interface is the one of Chroma's published ``model.onnx`` (inputs ``input_ids``,
``attention_mask``, ``token_type_ids``, all int64 ``[batch, sequence]``; output
``last_hidden_state``, float32 ``[batch, sequence, 384]``), so either file can be used.
The BERT pooler is left out: mean pooling does not read it.

Nodes are laid out the way a PyTorch export lays them out (division by √d, GELU as
Div→Erf→Add→Mul→Mul, the additive mask from ``(1 - mask) * float32.min``) because
onnxruntime's graph optimiser recognises that layout and fuses it.

Needs the ``onnx`` and ``safetensors`` packages (the ``offline-model`` extra).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

HIDDEN = 384
HEADS = 12
HEAD_SIZE = HIDDEN // HEADS
LAYERS = 6
LAYER_NORM_EPSILON = 1e-12
OPSET = 17
IR_VERSION = 8


class _GraphBuilder:
    """Collects nodes and initialisers and hands out unique tensor names."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        from onnx import helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self._weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._counter = 0

    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_{self._counter}"

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self._numpy_helper.from_array(value, name))
        return name

    def weight(self, name: str, *, transpose: bool = False) -> str:
        """A tensor of the checkpoint; linear weights are stored [out, in] and MatMul
        wants [in, out]."""
        value = self._weights[name]
        value = np.ascontiguousarray(value.T) if transpose else value
        return self.constant(name, value.astype(np.float32))

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        output = self._name(op_type.lower())
        self.nodes.append(
            self._helper.make_node(op_type, list(inputs), [output], name=output, **attributes)
        )
        return output


def _linear(graph: _GraphBuilder, x: str, prefix: str) -> str:
    weight = graph.weight(f"{prefix}.weight", transpose=True)
    return graph.op("Add", graph.op("MatMul", x, weight), graph.weight(f"{prefix}.bias"))


def _layer_norm(graph: _GraphBuilder, x: str, prefix: str) -> str:
    return graph.op(
        "LayerNormalization",
        x,
        graph.weight(f"{prefix}.weight"),
        graph.weight(f"{prefix}.bias"),
        axis=-1,
        epsilon=LAYER_NORM_EPSILON,
    )


def _heads(graph: _GraphBuilder, x: str, perm: list[int]) -> str:
    """[B, S, 384] → [B, 12, S, 32] (or [B, 12, 32, S] for keys)."""
    split = graph.op("Reshape", x, "heads_shape")
    return graph.op("Transpose", split, perm=perm)


def _attention(graph: _GraphBuilder, x: str, mask_bias: str, prefix: str) -> str:
    query = _heads(graph, _linear(graph, x, f"{prefix}.self.query"), [0, 2, 1, 3])
    key = _heads(graph, _linear(graph, x, f"{prefix}.self.key"), [0, 2, 3, 1])
    value = _heads(graph, _linear(graph, x, f"{prefix}.self.value"), [0, 2, 1, 3])
    scores = graph.op("Div", graph.op("MatMul", query, key), "sqrt_head_size")
    probabilities = graph.op("Softmax", graph.op("Add", scores, mask_bias), axis=-1)
    context = graph.op("MatMul", probabilities, value)
    merged = graph.op("Reshape", graph.op("Transpose", context, perm=[0, 2, 1, 3]), "merge_shape")
    attended = _linear(graph, merged, f"{prefix}.output.dense")
    return _layer_norm(graph, graph.op("Add", attended, x), f"{prefix}.output.LayerNorm")


def _gelu(graph: _GraphBuilder, x: str) -> str:
    """Exact GELU: x · (erf(x / √2) + 1) · 0.5."""
    erf = graph.op("Erf", graph.op("Div", x, "sqrt_two"))
    return graph.op("Mul", graph.op("Mul", x, graph.op("Add", erf, "one")), "half")


def _feed_forward(graph: _GraphBuilder, x: str, prefix: str) -> str:
    hidden = _gelu(graph, _linear(graph, x, f"{prefix}.intermediate.dense"))
    output = _linear(graph, hidden, f"{prefix}.output.dense")
    return _layer_norm(graph, graph.op("Add", output, x), f"{prefix}.output.LayerNorm")


def _embeddings(graph: _GraphBuilder) -> str:
    words = graph.op("Gather", graph.weight("embeddings.word_embeddings.weight"), "input_ids")
    types = graph.op(
        "Gather", graph.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"
    )
    # Slice with a 1-D length: a Gather over Range(0, S) is rewritten by onnxruntime's
    # optimiser into a Slice with scalar bounds that fails at run time.
    length = graph.op("Slice", graph.op("Shape", "input_ids"), "one_index", "two_index")
    positions = graph.op(
        "Slice", graph.weight("embeddings.position_embeddings.weight"), "zero_index", length
    )
    summed = graph.op("Add", graph.op("Add", words, types), positions)
    return _layer_norm(graph, summed, "embeddings.LayerNorm")


def _mask_bias(graph: _GraphBuilder) -> str:
    """0 where the mask is 1 and float32.min where it is 0, shaped [B, 1, 1, S]."""
    expanded = graph.op("Unsqueeze", "attention_mask", "mask_axes")
    mask = graph.op("Cast", expanded, to=1)  # 1 = FLOAT
    return graph.op("Mul", graph.op("Sub", "one", mask), "float_min")


def _add_constants(graph: _GraphBuilder) -> None:
    scalars = {
        "one": 1.0,
        "half": 0.5,
        "sqrt_two": math.sqrt(2.0),
        "sqrt_head_size": math.sqrt(HEAD_SIZE),
        "float_min": float(np.finfo(np.float32).min),
    }
    for name, value in scalars.items():
        graph.constant(name, np.array(value, dtype=np.float32))
    indices = {
        "zero_index": [0],
        "one_index": [1],
        "two_index": [2],
        "mask_axes": [1, 2],
        "heads_shape": [0, 0, HEADS, HEAD_SIZE],
        "merge_shape": [0, 0, HIDDEN],
    }
    for name, values in indices.items():
        graph.constant(name, np.array(values, dtype=np.int64))


def build_model(weights: dict[str, np.ndarray]) -> Any:
    """The ONNX ``ModelProto`` of the encoder whose checkpoint tensors are `weights`."""
    from onnx import TensorProto, helper

    graph = _GraphBuilder(weights)
    _add_constants(graph)
    x = _embeddings(graph)
    mask_bias = _mask_bias(graph)
    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}"
        x = _attention(graph, x, mask_bias, f"{prefix}.attention")
        x = _feed_forward(graph, x, prefix)
    graph.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    output = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", HIDDEN]
    )
    model = helper.make_model(
        helper.make_graph(graph.nodes, "all-MiniLM-L6-v2", inputs, [output], graph.initializers),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="azurite",
    )
    model.ir_version = IR_VERSION
    return model


def export_model(safetensors_path: Path, destination: Path) -> None:
    """Reads the checkpoint at `safetensors_path` and writes ``model.onnx`` bytes to
    `destination`."""
    import onnx
    from safetensors.numpy import load_file

    model = build_model(load_file(str(safetensors_path)))
    destination.write_bytes(model.SerializeToString())
    onnx.checker.check_model(str(destination))
