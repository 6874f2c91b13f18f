"""The engine as llama-index objects: a query engine and a chat engine whose responses carry the
cited quotes as source nodes. (The retriever is `retrieve.HybridRetriever`, a llama-index retriever.)

    engine = bot.as_query_engine()
    response = engine.query("Why did China refuse the Austin meeting?")
    response.response                        # the answer text with [n] markers
    response.source_nodes                    # one node per citation: the exact quote, its article's
                                             # metadata, and its character offsets in the article
    response.metadata["abstained"], response.metadata["citations"], response.metadata["form"]
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.base.response.schema import Response
from llama_index.core.bridge.pydantic import Field
from llama_index.core.chat_engine.types import AgentChatResponse, BaseChatEngine, StreamingAgentChatResponse
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeRelationship, NodeWithScore, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores import MetadataFilters

from rag.schema import Answer, Citation

if TYPE_CHECKING:
    from rag.chat.conversation import Chat
    from rag.engine import RAG


def citation_node(citation: Citation) -> NodeWithScore:
    """A citation as a llama-index node: the quote, with its offsets in the article's cleaned text."""
    article_id = citation.article_id
    node = TextNode(
        id_=f"{citation.chunk_id}@{citation.start}", text=citation.quote,
        start_char_idx=citation.start, end_char_idx=citation.end,
        metadata={"n": citation.n, "article_id": article_id, "source": citation.source,
                  "title": citation.title or "", "publisher": citation.publisher or "", "date": citation.date or "",
                  "author": citation.author or "", "chunk_id": citation.chunk_id},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article_id)},
    )
    return NodeWithScore(node=node, score=citation.score)


def response_metadata(answer: Answer) -> dict[str, Any]:
    return {"abstained": answer.abstained, "citations": answer.citations, "form": answer.form,
            "direct_answer": answer.direct_answer, "answerer": answer.answerer,
            "abstain_reason": answer.abstain_reason, "fallback_reason": answer.fallback_reason, "answer": answer}


def to_response(answer: Answer) -> Response:
    return Response(response=answer.text, source_nodes=[citation_node(c) for c in answer.citations],
                    metadata=response_metadata(answer))


class RAGQueryEngine(CustomQueryEngine):
    """`query(question)` -> `Response`: `RAG.ask` with its filters, as a llama-index query engine."""

    bot: Any = Field(description="The RAG engine that answers.")
    filters: MetadataFilters | None = None
    top_k: int | None = None
    answerer: str | None = None

    def custom_query(self, query_str: str) -> Response:
        return to_response(self.bot.ask(query_str, filters=self.filters, top_k=self.top_k, answerer=self.answerer))


class RAGChatEngine(BaseChatEngine):
    """A conversation (`rag.chat.conversation.Chat`: follow-ups rewritten into standalone questions) as a llama-index
    chat engine."""

    def __init__(self, bot: "RAG", filters: MetadataFilters | None = None, top_k: int | None = None,
                 answerer: str | None = None) -> None:
        self._chat: Chat = bot.chat(answerer=answerer)
        self._options = {"filters": filters, "top_k": top_k}

    @property
    def chat_history(self) -> list[ChatMessage]:
        messages = []
        for turn in self._chat.history:
            messages.append(ChatMessage(role=MessageRole.USER, content=turn.question))
            messages.append(ChatMessage(role=MessageRole.ASSISTANT, content=turn.text))
        return messages

    def reset(self) -> None:
        self._chat.reset()

    def _use_history(self, chat_history: list[ChatMessage] | None) -> None:
        """Replace the conversation with a caller's history (user / assistant turns)."""
        if chat_history is None:
            return
        self._chat.reset()
        question = None
        for message in chat_history:
            if message.role == MessageRole.USER:
                question = message.content or ""
            elif message.role == MessageRole.ASSISTANT and question is not None:
                self._chat.history.append(Answer(question=question, text=message.content or ""))
                question = None

    def chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        self._use_history(chat_history)
        answer = self._chat.ask(message, **self._options)
        return AgentChatResponse(response=answer.text, source_nodes=[citation_node(c) for c in answer.citations],
                                 metadata=response_metadata(answer))

    def stream_chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> StreamingAgentChatResponse:
        """Text as it is produced (`response.response_gen`); the source nodes are set when it ends.
        With a model, the streamed text is the model's raw text, before the citation check (`chat()`
        returns the checked answer)."""
        self._use_history(chat_history)
        response = StreamingAgentChatResponse(is_writing_to_memory=False)

        def deltas() -> Generator[ChatResponse, None, None]:
            text = ""
            for event in self._chat.stream(message, **self._options):
                if isinstance(event, Answer):
                    response.source_nodes = [citation_node(c) for c in event.citations]
                    return
                text += event
                yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=event)

        response.chat_stream = deltas()
        return response

    async def achat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        return await asyncio.to_thread(self.chat, message, chat_history)

    async def astream_chat(self, message: str,
                           chat_history: list[ChatMessage] | None = None) -> StreamingAgentChatResponse:
        answered = await self.achat(message, chat_history)

        async def deltas() -> AsyncGenerator[ChatResponse, None]:
            yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=answered.response),
                               delta=answered.response)

        return StreamingAgentChatResponse(achat_stream=deltas(), source_nodes=answered.source_nodes,
                                          is_writing_to_memory=False)
