from typing import NewType

from common.ids import RichIds

TranscriptionJobId = NewType("TranscriptionJobId", str)
TranscriptionJobIds = RichIds("transcriptionjob", TranscriptionJobId)
