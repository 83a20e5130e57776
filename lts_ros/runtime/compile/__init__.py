"""What the runtime compiles on first use, on the machine that runs it: a checkpoint into ONNX graphs
(``onnx_export``) and an ONNX graph into a TensorRT engine for this GPU (``tensorrt_build``). The formats they
write are ``lts_ros.artifacts``; precision variants and their checks are ``lts_ros.export``."""
