"""Contains all the data models used in inputs/outputs"""

from .access_token import AccessToken
from .account import Account
from .account_create import AccountCreate
from .account_list import AccountList
from .account_update import AccountUpdate
from .actor_account import ActorAccount
from .change_actor import ChangeActor
from .change_op import ChangeOp
from .change_page import ChangePage
from .count_mode import CountMode
from .email_change import EmailChange
from .export_format import ExportFormat
from .field_changes import FieldChanges
from .field_error import FieldError
from .grade import Grade
from .grade_change import GradeChange
from .health_status import HealthStatus
from .history_page import HistoryPage
from .import_report import ImportReport
from .me import Me
from .name_change import NameChange
from .on_error import OnError
from .password_change import PasswordChange
from .password_grant import PasswordGrant
from .password_reset import PasswordReset
from .problem import Problem
from .role import Role
from .scope import Scope
from .student import Student
from .student_change import StudentChange
from .student_create import StudentCreate
from .student_page import StudentPage
from .student_patch import StudentPatch
from .student_replace import StudentReplace
from .student_restore import StudentRestore
from .student_sort import StudentSort
from .token import Token
from .token_create import TokenCreate
from .token_created import TokenCreated
from .token_list import TokenList
from .webhook_attempt import WebhookAttempt
from .webhook_attempt_outcome import WebhookAttemptOutcome
from .webhook_attempt_page import WebhookAttemptPage
from .webhook_create import WebhookCreate
from .webhook_created import WebhookCreated
from .webhook_disabled_reason import WebhookDisabledReason
from .webhook_endpoint import WebhookEndpoint
from .webhook_event_type import WebhookEventType
from .webhook_health import WebhookHealth
from .webhook_list import WebhookList
from .webhook_replay import WebhookReplay
from .webhook_replayed import WebhookReplayed
from .webhook_update import WebhookUpdate

__all__ = (
    "AccessToken",
    "Account",
    "AccountCreate",
    "AccountList",
    "AccountUpdate",
    "ActorAccount",
    "ChangeActor",
    "ChangeOp",
    "ChangePage",
    "CountMode",
    "EmailChange",
    "ExportFormat",
    "FieldChanges",
    "FieldError",
    "Grade",
    "GradeChange",
    "HealthStatus",
    "HistoryPage",
    "ImportReport",
    "Me",
    "NameChange",
    "OnError",
    "PasswordChange",
    "PasswordGrant",
    "PasswordReset",
    "Problem",
    "Role",
    "Scope",
    "Student",
    "StudentChange",
    "StudentCreate",
    "StudentPage",
    "StudentPatch",
    "StudentReplace",
    "StudentRestore",
    "StudentSort",
    "Token",
    "TokenCreate",
    "TokenCreated",
    "TokenList",
    "WebhookAttempt",
    "WebhookAttemptOutcome",
    "WebhookAttemptPage",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDisabledReason",
    "WebhookEndpoint",
    "WebhookEventType",
    "WebhookHealth",
    "WebhookList",
    "WebhookReplay",
    "WebhookReplayed",
    "WebhookUpdate",
)
