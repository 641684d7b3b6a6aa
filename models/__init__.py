"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from models.board import BoardSetting, PostingProof
from models.directory import BoundChat, Invite, Person, RoleGrant, Township, Village
from models.notices import Attachment, AuditEntry, Notice, Posting, ReviewDecision
from models.obligations import NagLog, NagScan, NagTally, Obligation, Snooze
from models.runtime_state import FsmRecord, OutboxMessage, ProcessedUpdate
from models.voice import Petition, PetitionPost, Question, QuestionEntry, Signature, VoiceQuota

__all__ = [
    "Attachment",
    "AuditEntry",
    "BoardSetting",
    "BoundChat",
    "FsmRecord",
    "Invite",
    "NagLog",
    "NagScan",
    "NagTally",
    "Notice",
    "Obligation",
    "OutboxMessage",
    "Person",
    "Petition",
    "PetitionPost",
    "Posting",
    "PostingProof",
    "ProcessedUpdate",
    "Question",
    "QuestionEntry",
    "ReviewDecision",
    "RoleGrant",
    "Signature",
    "Snooze",
    "Township",
    "Village",
    "VoiceQuota",
]
