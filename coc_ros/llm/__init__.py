"""LLM backends behind one small interface (`LLMClient.complete`)."""
from coc_ros.llm.base import Completion, LLMClient, LLMError
from coc_ros.llm.factory import make_llm

__all__ = ["Completion", "LLMClient", "LLMError", "make_llm"]
