"""serving: captured predictions and feedback

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("decision", sa.SmallInteger(), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
    )
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_predictions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_predictions_model_version"), ["model_version"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_predictions_request_id"), ["request_id"], unique=False)

    op.create_table(
        "prediction_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prediction_id", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "verdict IN ('right', 'wrong', 'unsure')", name=op.f("ck_prediction_feedback_verdict")
        ),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["predictions.id"],
            name=op.f("fk_prediction_feedback_prediction_id_predictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_feedback")),
    )
    with op.batch_alter_table("prediction_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prediction_feedback_prediction_id"), ["prediction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("prediction_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prediction_feedback_prediction_id"))

    op.drop_table("prediction_feedback")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_predictions_request_id"))
        batch_op.drop_index(batch_op.f("ix_predictions_model_version"))
        batch_op.drop_index(batch_op.f("ix_predictions_created_at"))

    op.drop_table("predictions")
