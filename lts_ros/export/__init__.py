"""Deployment variants of an ONNX export and their checks: fp16 and int8 (Q/DQ, calibrated) segment graphs
(``precision``, ``calibration``) and their agreement with fp32 (``parity``). The fp32 export itself is made by
``runtime.compile.onnx_export`` (the runtime makes it on first use); this layer imports the runtime to verify
what it writes, never the reverse."""
