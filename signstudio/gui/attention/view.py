"""The Attention tab's body: an :class:`~signstudio.interpret.session.AttentionSession` on screen.

:class:`AttentionView` shows the session's record: the kind/layer/head selectors and the diagonal
score, the heatmap of the map chosen, the contribution bars, the clip (or, for a text model, the
source sentence shaded by attention), the output tokens and the clusters of the selected one. A
user's action (a selector, a click on a token, a cell or a bar) goes to the session, and the view
redraws from what the session then holds; it computes nothing itself.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel,
                               QSizePolicy, QSplitter, QStackedWidget, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from signstudio.gui.attention.plots import CROSS_BRUSH, SELF_BRUSH, AttentionHeatmap, ContributionPlot
from signstudio.gui.attention.spatial import SpatialPanel
from signstudio.gui.frames import FrameCache
from signstudio.gui.player import ClipPlayer
from signstudio.gui.preferences import set_role
from signstudio.gui.widgets import ellipsize
from signstudio.interpret.session import AttentionSession, player_frame

INTRO = (
    "<h3>What did the model look at?</h3>"
    "<p>Pick a model, then open a <b>video</b> or <b>.pose</b> file of signing (sign-to-text "
    "model), or open a <b>text</b> file or type a sentence (text model), and SignStudio records "
    "every attention map of one translation.</p>"
    "<p>You will see, for each output token, which frames it attended to (a heatmap over time), "
    "how well tokens and frames line up (the diagonal score), and how much each decoding step "
    "relied on the video rather than on the tokens it had already produced.</p>"
    "<p>A <b>video model</b> (the spatio-temporal transformer) also shows its 2D spatial "
    "attention over each frame: which parts of the picture each part looks at.</p>"
    "<p>Click a token to jump to the frames it looked at. Records can be saved as <b>.npz</b> "
    "and opened again; heatmaps can be exported as PNG or CSV.</p>")
CLIP_PLACEHOLDER = "The clip of the recorded video or .pose file plays here."
#: Clusters listed under the token list (the rest are counted).
CLUSTERS_SHOWN = 6


def intro_page() -> QWidget:
    """What the tab shows before the first record: what it does and how to start."""
    intro = QLabel(INTRO)
    intro.setTextFormat(Qt.TextFormat.RichText)
    intro.setWordWrap(True)
    intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
    intro.setMinimumWidth(560)
    intro.setMaximumWidth(720)
    page = QFrame()
    layout = QHBoxLayout(page)
    layout.addStretch(1)
    layout.addWidget(intro)
    layout.addStretch(1)
    return page


def which(layer: int, head: int | None) -> str:
    """"layer 0, head 3" or "layer 0, mean of heads"."""
    return f"layer {layer}, " + ("mean of heads" if head is None else f"head {head}")


class AttentionView(QSplitter):
    """Heatmap and analyses on the left, clip, tokens and clusters on the right.

    Args:
        session: the session shown (shared with the tab, which puts records in it).

    Signals:
        token_selected(int): the selected decoding step changed.
    """

    token_selected = Signal(int)

    def __init__(self, session: AttentionSession, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.session = session
        self._pose_fps = 0.0
        self._build()

    def _build(self) -> None:
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Attention kind")
        self.kind_combo.setToolTip("Cross-attention: what each output token looked at in the "
                                   "input.\nDecoder self-attention: which earlier tokens it looked "
                                   "at.\nEncoder self-attention: how input positions look at "
                                   "each other.")
        kind_label = QLabel("&Attention:")
        kind_label.setBuddy(self.kind_combo)
        self.layer_combo = QComboBox()
        self.layer_combo.setAccessibleName("Layer")
        self.layer_combo.setToolTip("Layer of the map shown (0 is the first)")
        layer_label = QLabel("&Layer:")
        layer_label.setBuddy(self.layer_combo)
        self.head_combo = QComboBox()
        self.head_combo.setAccessibleName("Head")
        self.head_combo.setToolTip("One attention head, or the mean of all heads")
        head_label = QLabel("&Head:")
        head_label.setBuddy(self.head_combo)
        for combo in (self.kind_combo, self.layer_combo, self.head_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kind_combo.currentIndexChanged.connect(self._kind_chosen)
        self.layer_combo.currentIndexChanged.connect(self._layer_or_head_chosen)
        self.head_combo.currentIndexChanged.connect(self._layer_or_head_chosen)
        self.diagonal_label = QLabel("")
        self.diagonal_label.setAccessibleName("Diagonal score")
        selectors = QHBoxLayout()
        selectors.setSpacing(6)
        for label, combo in ((kind_label, self.kind_combo), (layer_label, self.layer_combo),
                             (head_label, self.head_combo)):
            selectors.addWidget(label)
            selectors.addWidget(combo)
            selectors.addSpacing(8)
        selectors.addStretch(1)
        selectors.addWidget(self.diagonal_label)

        self.heatmap = AttentionHeatmap()
        self.heatmap.cell_clicked.connect(self._cell_clicked)
        self.contribution_title = QLabel("")
        self.contribution_title.setTextFormat(Qt.TextFormat.RichText)
        self.contribution_title.setWordWrap(True)
        set_role(self.contribution_title, "muted")
        self.contribution = ContributionPlot()
        self.contribution.setFixedHeight(170)
        self.contribution.step_clicked.connect(lambda u: self.select_token(u))

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.setSpacing(6)
        left_layout.addLayout(selectors)
        left_layout.addWidget(self.heatmap, 1)
        left_layout.addWidget(self.contribution_title)
        left_layout.addWidget(self.contribution)

        # --- the right column: clip (or source sentence), tokens, clusters
        self.player = ClipPlayer(CLIP_PLACEHOLDER)
        self.player.view.setMinimumSize(280, 200)
        self.player.frame_shown.connect(self._player_moved)
        self.source_view = QLabel("")
        self.source_view.setWordWrap(True)
        self.source_view.setTextFormat(Qt.TextFormat.RichText)
        self.source_view.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.source_view.setObjectName("SourceView")
        self.source_view.setStyleSheet("#SourceView { background: #111318; color: #f2f2f2; "
                                       "border-radius: 8px; padding: 12px; }")
        self.source_view.setAccessibleName("Source sentence")
        self.clip_stack = QStackedWidget()
        self.clip_stack.addWidget(self.player)
        self.clip_stack.addWidget(self.source_view)
        self.spatial_panel = SpatialPanel()
        self.clip_stack.addWidget(self.spatial_panel)

        tokens_label = QLabel("Output tokens (click one to see what it looked at)")
        bold = QFont(tokens_label.font())
        bold.setBold(True)
        tokens_label.setFont(bold)
        self.token_list = QTreeWidget()
        self.token_list.setAccessibleName("Output tokens")
        self.token_list.setRootIsDecorated(False)
        self.token_list.setUniformRowHeights(True)
        self.token_list.setAlternatingRowColors(True)
        self.token_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.token_list.setHeaderLabels(["#", "Token", "Looks at", "From video"])
        header = self.token_list.header()
        header.setStretchLastSection(False)
        for column, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(column, mode)
        self.token_list.currentItemChanged.connect(self._token_item_changed)
        self.token_list.setMinimumHeight(110)

        self.cluster_label = QLabel("")
        self.cluster_label.setTextFormat(Qt.TextFormat.RichText)
        self.cluster_label.setWordWrap(True)
        self.cluster_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.cluster_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cluster_label.setAccessibleName("Clusters of the selected token")
        self.cluster_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.setSpacing(6)
        right_layout.addWidget(self.clip_stack, 3)
        right_layout.addWidget(tokens_label)
        right_layout.addWidget(self.token_list, 2)
        right_layout.addWidget(self.cluster_label)

        self.setChildrenCollapsible(False)
        self.addWidget(left)
        self.addWidget(right)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setSizes([820, 420])

    # ------------------------------------------------------------------------------------------
    # the record
    def show_record(self) -> None:
        """Show the session's record from its default view (the session was just given it)."""
        session = self.session
        record = session.record
        text_model = session.text_model
        spatial = getattr(record, "spatial", None) is not None
        self.clip_stack.setCurrentWidget(self.spatial_panel if spatial else
                                         self.source_view if text_model else self.player)
        if spatial:
            self.spatial_panel.set_record(record)
        item = self.token_list.headerItem()
        item.setText(3, "From source" if text_model else "From video")
        item.setToolTip(3, "Share of the cross-attention in what attention adds at this step "
                           "(norm-based, Kobayashi et al. 2020), in the layer analysed")
        item.setToolTip(2, "The source token this token attends most" if text_model
                        else "The cluster of frames (seconds) this token attends most")
        cols = "source" if text_model else "frames"
        kinds = [(f"Cross: tokens × {cols}", "cross"), ("Decoder self: tokens × tokens", "decoder_self")]
        if record.encoder_self:  # a video model's encoder attention is spatial (the panel), not frames x frames
            kinds.append((f"Encoder self: {cols} × {cols}", "encoder_self"))
        _refill(self.kind_combo, kinds, "cross")
        _refill(self.head_combo, [("mean of heads", -1)] + [(f"{h}", h) for h in range(record.num_heads)], -1)
        self._fill_layers()
        self.refresh(keep_token=False)

    def set_clip(self, pose: Any, info: Any = None, frames: FrameCache | None = None) -> None:
        """Play ``pose`` (with the video's ``info`` and downscaled ``frames``, if any) beside the
        record; selecting a token then moves the player to the frames it attends."""
        self.player.pause()
        self.player.clear()
        if frames is not None:
            self.player.cache = frames
        self.player.load_pose(pose, info)
        fps = float(getattr(info, "fps", 0) or 0) or float(getattr(pose.body, "fps", 0) or 0)
        self._pose_fps = fps if fps > 0 else 25.0

    def clear_clip(self) -> None:
        """Play nothing."""
        self.player.pause()
        self.player.clear()
        self._pose_fps = 0.0
        self.heatmap.set_cursor(None)

    def pose_fps(self) -> float:
        """Frames per second of the clip in the player (0 with none)."""
        return self._pose_fps

    def player_position(self) -> int:
        """The player's frame index (0-based; 0 with no clip)."""
        return self.player.slider.value() if self.player.has_clip() else 0

    # ------------------------------------------------------------------------------------------
    # the user's choices, forwarded to the session
    def set_view(self, kind: str | None = None, layer: int | None = None,
                 head: int | None | str = "keep") -> None:
        """Show another map (see :meth:`AttentionSession.set_view`); the selectors follow.

        Raises:
            ValueError: unknown kind, or no such layer or head (nothing changes then).
        """
        if self.session.record is None:
            return
        if self.session.set_view(kind, layer, head):
            self._sync_selectors()
            self.refresh(keep_token=True)

    def select_token(self, step: int, jump: bool = True) -> None:
        """Select decoding step ``step``: highlight it and, with ``jump``, move the player to the
        first frame of the cluster of frames it attends most."""
        session = self.session
        if session.record is None or not 0 <= step < session.record.num_steps:
            return
        changed = session.select_token(step)
        item = self.token_list.topLevelItem(step)
        if item is not None and self.token_list.currentItem() is not item:
            self.token_list.blockSignals(True)
            self.token_list.setCurrentItem(item)
            self.token_list.blockSignals(False)
        self._update_marks()
        self._update_details()
        if jump:
            self.jump_to_token(step)
        if changed:
            self.token_selected.emit(step)

    def jump_to_token(self, step: int) -> None:
        """Move the player to the strongest cluster of ``step`` (if there is a clip)."""
        seconds = self.session.token_time(step)
        if seconds is not None and self.player.has_clip():
            self._show_time(seconds)

    def _kind_chosen(self, _index: int) -> None:
        if self.session.record is None:
            return
        self.session.set_view(kind=str(self.kind_combo.currentData()))
        self._fill_layers()
        self.refresh(keep_token=True)

    def _layer_or_head_chosen(self, _index: int) -> None:
        if self.session.record is None:
            return
        head = self.head_combo.currentData()
        self.session.set_view(layer=self.layer_combo.currentData(),
                              head=None if head is None or head < 0 else int(head))
        self.refresh(keep_token=True)

    def _cell_clicked(self, row: int, col: int) -> None:
        session = self.session
        if session.record is None:
            return
        if session.kind == "cross" and getattr(session.record, "spatial", None) is not None:
            self.spatial_panel.show_frame(col)  # the frame's 2D attention beside its cross-attention
        if session.kind != "encoder_self":
            self.select_token(row, jump=True)
            return
        session.select_query(row)
        self._update_marks()
        seconds = session.query_time()
        if seconds is not None and self.player.has_clip():
            self._show_time(seconds)

    def _token_item_changed(self, current, _previous) -> None:
        if current is not None:
            self.select_token(self.token_list.indexOfTopLevelItem(current), jump=True)

    def _show_time(self, seconds: float) -> None:
        self.player.pause()
        self.player.show_frame(player_frame(seconds, self._pose_fps, self.player.frame_count()))

    def _player_moved(self, index: int) -> None:
        record = self.session.record
        if record is None or record.frame_times is None or not self.player.has_clip() or self._pose_fps <= 0:
            self.heatmap.set_cursor(None)
            return
        self.heatmap.set_cursor(index / self._pose_fps)

    # ------------------------------------------------------------------------------------------
    # drawing what the session holds
    def _sync_selectors(self) -> None:
        kind, _layer, head = self.session.view
        self.kind_combo.blockSignals(True)
        self.kind_combo.setCurrentIndex(max(self.kind_combo.findData(kind), 0))
        self.kind_combo.blockSignals(False)
        self._fill_layers()
        self.head_combo.blockSignals(True)
        self.head_combo.setCurrentIndex(max(self.head_combo.findData(-1 if head is None else head), 0))
        self.head_combo.blockSignals(False)

    def _fill_layers(self) -> None:
        session = self.session
        n = session.layer_count()
        where = "encoder" if session.kind == "encoder_self" else "decoder"
        self.layer_combo.setToolTip(f"The {where} layer of the map shown (0 is the first)")
        _refill(self.layer_combo, [(f"{i}" + (" (last)" if i == n - 1 and n > 1 else ""), i) for i in range(n)],
                session.layer)

    def refresh(self, keep_token: bool) -> None:
        """Redraw the heatmap, the analyses and the token list for the view chosen; select the
        first token (moving the player to it) unless ``keep_token``."""
        session = self.session
        record = session.record
        self.heatmap.set_matrix(session.matrix(), *session.axes())
        a_layer, a_head = session.analysis_layer()
        scope = which(a_layer, a_head)
        if session.kind == "encoder_self":
            scope = f"cross-attention, {scope}"
        diag = session.diagonal()
        if np.isfinite(diag):
            self.diagonal_label.setText(f"Diagonal score: <b>{diag:.2f}</b>")
        else:
            self.diagonal_label.setText(f"Diagonal score: n/a ({session.diagonal_note()})")
        self.diagonal_label.setToolTip(
            f"How diagonal the cross-attention ({scope}) is (SignAttention): 1 = the tokens attend "
            "consecutive blocks of the input in order, 0 = no better than uniform attention. "
            "The final </s> step is left out.")
        self.contribution.set_shares(session.cross_share(), list(record.tokens))
        self.contribution_title.setText(
            "<b>What each decoding step draws on:</b>&nbsp; "
            f"<span style='color:{CROSS_BRUSH.name()}'>■</span>&nbsp;cross-attention&nbsp;"
            f"({'the&nbsp;source&nbsp;sentence' if session.text_model else 'the&nbsp;video'}) vs.&nbsp; "
            f"<span style='color:{SELF_BRUSH.name()}'>■</span>&nbsp;decoder&nbsp;self-attention&nbsp;"
            "(the&nbsp;tokens&nbsp;so&nbsp;far) "
            f"<span style='color:#6b7480'>— norm-based shares, decoder layer {a_layer}, all heads "
            "(Kobayashi et al. 2020)</span>")
        self._fill_tokens()
        if keep_token and session.token is not None:
            self.select_token(session.token, jump=False)
        else:
            session.deselect_token()
            self.select_token(0, jump=True)

    def _fill_tokens(self) -> None:
        self.token_list.blockSignals(True)
        self.token_list.clear()
        for row in self.session.token_rows():
            share = "" if not np.isfinite(row.share) else f"{row.share * 100:.0f}%"
            item = QTreeWidgetItem([str(row.step), row.token, row.looks_at, share])
            item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(1, f"Step {row.step} produced {row.token}")
            self.token_list.addTopLevelItem(item)
        self.token_list.blockSignals(False)

    def _update_marks(self) -> None:
        self.heatmap.set_highlight(self.session.highlighted_row(), self.session.highlighted_spans())
        self.contribution.set_step(self.session.token)
        self._player_moved(self.player_position())

    def _update_details(self) -> None:
        session = self.session
        record, u = session.record, session.token
        if record is None or u is None:
            self.cluster_label.setText("")
            return
        a_layer, a_head = session.analysis_layer()
        clusters = session.clusters()
        best = session.strongest()
        lines = [f"<b>{html.escape(str(record.tokens[u]))}</b> (step {u} of {record.num_steps}) — "
                 f"clusters in the cross-attention, {which(a_layer, a_head)}:"]
        if not clusters:
            lines.append("no attention")
        for c in clusters[:CLUSTERS_SHOWN]:
            if session.timed:
                span = f"{session.span_text(c)} (frames {c.start}–{c.end})"
            else:
                span = "“" + html.escape(session.span_text(c)) + "”"
            mark = " ◀ strongest" if c is best else ""
            lines.append(f"&nbsp;• {span}: {c.mass * 100:.0f}% of its attention{mark}")
        if len(clusters) > CLUSTERS_SHOWN:
            lines.append(f"&nbsp;… and {len(clusters) - CLUSTERS_SHOWN} more")
        share = session.cross_share(a_layer)
        if u < len(share) and np.isfinite(share[u]):
            source = "the video" if session.timed else "the source"
            lines.append(f"Draws {share[u] * 100:.0f}% on {source}, {(1 - share[u]) * 100:.0f}% "
                         "on the tokens so far.")
        self.cluster_label.setText("<br>".join(lines))
        if not session.timed:
            self._update_source_view(u)

    def _update_source_view(self, u: int) -> None:
        record = self.session.record
        row = self.session.analysed_cross()[u]
        top = float(row.max()) if row.size else 0.0
        parts = []
        for word, weight in zip(record.key_labels, row):
            alpha = 0.0 if top <= 0 else float(weight) / top
            bg = f"rgba(253, 231, 37, {alpha * 0.85:.2f})"
            fg = "#111318" if alpha > 0.5 else "#f2f2f2"
            parts.append(f"<span style='background:{bg}; color:{fg}'>&nbsp;{html.escape(word)}&nbsp;</span>")
        self.source_view.setText(
            "<p style='color:#9aa3ad'>Source sentence — shaded by how much "
            f"<b style='color:#ffd24d'>{html.escape(str(record.tokens[u]))}</b> attends to each "
            "token:</p><p style='font-size:15pt; line-height:160%'>" + " ".join(parts) + "</p>")


def _refill(combo: QComboBox, items: list[tuple[str, Any]], current: Any) -> None:
    """Replace a selector's items (text, data) and choose ``current``, without signals."""
    combo.blockSignals(True)
    combo.clear()
    for text, data in items:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    combo.blockSignals(False)


def summary_html(record: Any, source: str) -> str:
    """One line about a record: its output in bold, then model, input, length, decoding, sizes."""
    words = " ".join(t for t in record.tokens if t != "</s>") or "(no tokens)"
    bits = [record.model]
    timed = record.frame_times is not None and not record.source_tokens
    if source:
        try:
            is_file = len(source) < 1000 and Path(source).is_file()
        except (OSError, ValueError):
            is_file = False
        bits.append("on " + (Path(source).name if is_file else f"“{ellipsize(source, 60)}”"))
    if timed:
        seconds = record.num_frames / record.fps if record.fps > 0 else 0.0
        bits.append(f"{record.num_frames} frames at {record.fps:.3g} fps ({seconds:.2f} s)")
    else:
        bits.append(f"{record.num_frames} source tokens")
    encoder = ("a 2D spatial encoder layer" if getattr(record, "spatial", None) is not None
               else f"{len(record.encoder_self)} encoder")
    bits.append(f"{encoder} / {len(record.cross)} decoder layers, {record.num_heads} heads")
    # Break lines only between the parts, never inside one.
    details = " · ".join(html.escape(b).replace(" ", "&nbsp;") for b in bits)
    # How the output was found, on its own line: the Translate tab may decode the same clip
    # another way (CTC, a gloss LM, a sliding window) and show another output.
    how = "the given target (forced)" if record.decoding == "forced" else record.decoding
    decoded = (f"<br><span style='color:#5b6472; font-size:9pt'>Decoded: {html.escape(how)}</span>"
               if how else "")
    return (f"<span style='font-size:13pt'><b>{html.escape(words)}</b></span>"
            f"&nbsp;&nbsp; <span style='color:#5b6472'>{details}</span>{decoded}")
