"""Build a tiny, randomly initialised Qwen3-style checkpoint on local disk, in seconds, with no downloads.

The checkpoint is a real Hugging Face checkpoint directory: ``config.json`` + ``model.safetensors`` (a
``Qwen3ForCausalLM`` with 2 layers, hidden size 64), ``generation_config.json``, and a byte-level BPE
tokenizer (``tokenizer.json`` + ``tokenizer_config.json`` + ``chat_template.jinja``) trained here with the
``tokenizers`` library on the English text below. It loads with ``AutoModelForCausalLM`` /
``AutoTokenizer`` from the path with ``HF_HUB_OFFLINE=1`` and ``transformers serve`` serves it.

Its answers are nonsense, but everything around them is real: the ChatML chat template (with
``add_generation_prompt`` and ``enable_thinking``), the special tokens, the token counts.

Generation config: ``do_sample=True, temperature=1.0, top_k=0`` (sampling, no top-k). With greedy decoding
a random model repeats one whitespace token, which ``transformers serve`` then sends as a single chunk;
with sampling it streams one chunk per token. ``<|im_start|>``, ``<|endoftext|>``, ``<think>`` and
``</think>`` are in ``suppress_tokens`` so that the random model never emits them: its output is plain
text in ``content`` (no stray ``reasoning_content``, no early end of the content region). The end of
turn, ``<|im_end|>``, is the eos and is not suppressed, but a random model almost never samples it, so
in practice a request runs to its ``max_tokens``. The 128 single-byte tokens 0x80-0xFF (not valid UTF-8
alone; the corpus is ASCII, so no other token holds a partial character) are suppressed too, so that
every generated token decodes to text on its own and the server sends exactly one chunk per token.

Everything is seeded: two builds give the same tokenizer and the same weights.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = [
    "CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "build_tiny_checkpoint",
    "training_text",
]

SEED = 1234
VOCAB_SIZE = 1024  # the tokenizer's target size; the model's vocab is set to the trained tokenizer's length

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
ENDOFTEXT = "<|endoftext|>"
THINK = "<think>"
END_THINK = "</think>"
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END, THINK, END_THINK]

# A Qwen3-like ChatML template. Supports system/user/assistant/tool messages, tools, `add_generation_prompt`
# and `enable_thinking` (False prefills an empty think block, as Qwen3 does). The reasoning of earlier
# assistant turns is dropped, as Qwen3 does for turns before the last user message.
CHAT_TEMPLATE = """\
{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\\n\\n' }}
    {%- endif %}
    {{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n' }}
    {{- 'You are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}
    {%- for tool in tools %}
        {{- '\\n' }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments ' }}
    {{- 'within <tool_call></tool_call> XML tags:\\n<tool_call>\\n' }}
    {{- '{"name": <function-name>, "arguments": <args-json-object>}\\n</tool_call><|im_end|>\\n' }}
{%- elif messages[0].role == 'system' %}
    {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- for message in messages %}
    {%- set content = message.content if message.content is string else '' %}
    {%- if message.role == 'system' %}
        {%- if not loop.first %}
            {{- '<|im_start|>system\\n' + content + '<|im_end|>\\n' }}
        {%- endif %}
    {%- elif message.role == 'user' %}
        {{- '<|im_start|>user\\n' + content + '<|im_end|>\\n' }}
    {%- elif message.role == 'assistant' %}
        {%- if '</think>' in content %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {{- '<|im_start|>assistant\\n' + content }}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\\n' }}
                {%- endif %}
                {{- '<tool_call>\\n{"name": "' + tool_call.name + '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == 'tool' %}
        {%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' + content + '\\n</tool_response>' }}
        {%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""

_PARAGRAPHS = [
    (
        "The quick brown fox jumps over the lazy dog. A small test model does not need to be clever; "
        "it needs to be fast, deterministic and honest about what it is. This text exists so that a "
        "byte-level tokenizer can learn a few hundred merges of common English words, numbers and "
        "punctuation."
    ),
    (
        "Once upon a time there was a lighthouse keeper who counted the ships that passed his island. "
        "In the spring he counted twelve, in the summer forty-two, and in the winter only three. He "
        "wrote every number in a blue notebook, and when the notebook was full he started another one."
    ),
    (
        "To evaluate a language model, we ask it questions and compare its answers with the reference "
        "answers. For a math problem the answer is a number, such as 17, 256 or 3.14, and the final "
        "answer is often written in a box. For a multiple choice question the answer is a letter: A, "
        "B, C or D."
    ),
    (
        "A server that streams tokens sends one event per token. The client measures the time to the "
        "first token, the time between tokens, and the total latency of the request. Throughput is the "
        "number of output tokens per second, summed over all the requests that run at the same time."
    ),
    (
        "What is the capital of France? The capital of France is Paris. What is seven times eight? "
        "Seven times eight is fifty-six. How many days are there in a week? There are seven days in a "
        "week: Monday, Tuesday, Wednesday, Thursday, Friday, Saturday and Sunday."
    ),
    (
        "Let us think step by step. First, we read the problem carefully. Then we write down what we "
        "know and what we want to find. Next, we try a simple case, check the result, and only then "
        "solve the general case. Finally, we verify the answer and explain the reasoning in plain "
        "words."
    ),
    (
        "The weather was cold and the river was frozen, so the children walked across the ice to the "
        "village on the other side. Their mother had baked bread, and the smell of it filled the "
        "kitchen. After dinner they sat by the fire and listened to the old stories of their "
        "grandfather."
    ),
    (
        "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(i, add(i, i * 2))\n\nif "
        '__name__ == "__main__":\n    main()\n'
    ),
    (
        "Good software is tested. A unit test checks one small piece of code; an integration test "
        "checks that the pieces work together. When a test fails, the message should say what was "
        "expected and what happened instead, so that the person who reads it can fix the problem "
        "quickly."
    ),
    (
        "The numbers from one to twenty are: one, two, three, four, five, six, seven, eight, nine, "
        "ten, eleven, twelve, thirteen, fourteen, fifteen, sixteen, seventeen, eighteen, nineteen and "
        "twenty. In digits: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20, and 100, 1000, 2024, "
        "2025."
    ),
    (
        "She opened the window and looked at the garden. The roses were red, the grass was green, and "
        "the sky was a very pale blue. A bird sang in the apple tree, and somewhere far away a dog was "
        "barking at a passing car. It was going to be a long and quiet afternoon."
    ),
    (
        "Question: If a train travels 60 miles in 1.5 hours, what is its average speed? Answer: The "
        "average speed is distance divided by time, so 60 / 1.5 = 40 miles per hour. The answer is 40."
    ),
    (
        "Science is a way of asking questions about the world and testing the answers with "
        "experiments. A good experiment changes one thing at a time, measures the result, and can be "
        "repeated by someone else who follows the same steps and gets the same result."
    ),
    (
        "User: Hello! Can you help me?\nAssistant: Of course. What do you need?\nUser: Please "
        "summarize this article in three sentences.\nAssistant: Sure. Here is a short summary of the "
        "main points."
    ),
]


def training_text() -> list[str]:
    """The local English text the tokenizer is trained on (no downloads, no files outside this module)."""
    return list(_PARAGRAPHS)


def _train_tokenizer():
    """Train a byte-level BPE ``tokenizers.Tokenizer`` with the special tokens first in the vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=1,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # The corpus is small: repeat it so that frequencies, not ties, pick most merges.
    tokenizer.train_from_iterator(training_text() * 4, trainer=trainer)
    return tokenizer


def _byte_to_unicode() -> dict[int, str]:
    """The byte -> character map of byte-level BPE (GPT-2's ``bytes_to_unicode``)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("\u00a1"), ord("\u00ac") + 1)]
    printable += range(ord("\u00ae"), ord("\u00ff") + 1)
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def build_tiny_checkpoint(path: Path, *, head_dim: int = 16) -> Path:
    """Write a tiny random Qwen3-style checkpoint into ``path`` (created if needed) and return ``path``.

    Takes a few seconds on 2 CPU cores. The model name to load is the path itself. ``head_dim`` 32 for vLLM,
    whose CPU attention takes 32 to 512 (16 starts, then fails every request).
    """
    import torch
    from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(),
        bos_token=None,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        unk_token=None,
        additional_special_tokens=[IM_START, IM_END, THINK, END_THINK],
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
        chat_template=CHAT_TEMPLATE,
    )
    ids = {tok: tokenizer.convert_tokens_to_ids(tok) for tok in SPECIAL_TOKENS}
    # The corpus is ASCII, so every merge is ASCII; only the 128 single-byte tokens 0x80-0xFF are not
    # valid UTF-8 on their own. Suppressing them makes every generated token decode to text by itself.
    byte_chars = _byte_to_unicode()
    vocab = tokenizer.get_vocab()
    non_ascii_bytes = [vocab[byte_chars[b]] for b in range(0x80, 0x100)]
    vocab_size = len(tokenizer)

    config = Qwen3Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=head_dim,
        max_position_embeddings=2048,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=ids[IM_END],
        pad_token_id=ids[ENDOFTEXT],
        dtype="float32",
    )
    torch.manual_seed(SEED)
    model = Qwen3ForCausalLM(config)
    model.eval()
    model.generation_config = GenerationConfig(
        do_sample=True,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        eos_token_id=ids[IM_END],
        pad_token_id=ids[ENDOFTEXT],
        bos_token_id=None,
        suppress_tokens=[ids[IM_START], ids[ENDOFTEXT], ids[THINK], ids[END_THINK], *non_ascii_bytes],
    )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)

    # A note for whoever opens the folder.
    (path / "README.md").write_text(
        "Tiny randomly initialised Qwen3-style checkpoint for assay's tests, built by "
        "tests/helpers/tiny_checkpoint.py. Its output is nonsense.\n"
        + json.dumps({"vocab_size": vocab_size, "special_tokens": ids}, indent=2)
        + "\n"
    )
    return path
