"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from models.board import BoardSetting, PostingProof
from models.directory import BoundChat, Invite, OfficialNumber, Person, RoleGrant, Township, Village
from models.notices import Attachment, AuditEntry, Notice, Posting, ReviewDecision
from models.obligations import NagLog, NagScan, NagTally, Obligation, Snooze
from models.procedures import Consultation, Matter, MatterStep
from models.runtime_state import FsmRecord, OutboxMessage, ProcessedUpdate
from models.township import ConsoleToken, DeskAction, Inspection, InspectionFinding, InspectionPhoto, Rectification
from models.voice import Petition, PetitionPost, Question, QuestionEntry, Signature, VoiceQuota

__all__ = [
    "Attachment",
    "AuditEntry",
    "BoardSetting",
    "BoundChat",
    "ConsoleToken",
    "Consultation",
    "DeskAction",
    "FsmRecord",
    "Inspection",
    "InspectionFinding",
    "InspectionPhoto",
    "Invite",
    "Matter",
    "MatterStep",
    "NagLog",
    "NagScan",
    "NagTally",
    "Notice",
    "Obligation",
    "OfficialNumber",
    "OutboxMessage",
    "Person",
    "Petition",
    "PetitionPost",
    "Posting",
    "PostingProof",
    "ProcessedUpdate",
    "Question",
    "QuestionEntry",
    "Rectification",
    "ReviewDecision",
    "RoleGrant",
    "Signature",
    "Snooze",
    "Township",
    "Village",
    "VoiceQuota",
]
