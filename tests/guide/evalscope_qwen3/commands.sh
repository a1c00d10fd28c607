# The guide's two shell commands, `evalscope` changed to `assay` (the second is `evalscope app` in the guide's
# releases up to 1.0; later ones renamed it `evalscope service`).
assay perf \
    --url "http://127.0.0.1:8801/v1/chat/completions" \
    --parallel 5 \
    --model Qwen3-32B \
    --number 20 \
    --api openai \
    --dataset openqa \
    --stream
assay app
