"""Forms of the history import: the upload, then the column mapping. They validate only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fengqiao.incidents.imports import ENCODINGS, FIELDS, REQUIRED


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "form-select"})


class ImportUploadForm(forms.Form):
    """A 110 export, the station it belongs to (when the user has several), its encoding."""

    station = forms.TypedChoiceField(label=_("派出所"), coerce=int, widget=_select())
    file = forms.FileField(
        label=_("文件（CSV 或 XLSX）"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )
    encoding = forms.ChoiceField(
        label=_("CSV 编码"),
        required=False,
        widget=_select(),
        help_text=_("一般无需选择：系统会自动识别 UTF-8 和 GBK。识别失败时请在这里指定。"),
    )
    keep_callers = forms.BooleanField(
        label=_("保留报警人姓名和电话（加密，导入较慢）"),
        required=False,
        help_text=_("默认只保留电话的加密摘要，足以识别重复报警；历史警情一般不需要姓名和电话。"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, stations: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        station = self.fields["station"]
        assert isinstance(station, forms.TypedChoiceField)
        station.choices = [(s.pk, s.name) for s in stations]
        if len(stations) == 1:
            station.initial = stations[0].pk
            station.widget = forms.HiddenInput()
        encoding = self.fields["encoding"]
        assert isinstance(encoding, forms.ChoiceField)
        encoding.choices = [("", _("自动识别")), *ENCODINGS.items()]


class MappingForm(forms.Form):
    """Which column of the file each field comes from, proposed from the header."""

    def __init__(self, *args: Any, header: list[str], proposed: dict[str, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", _("（不导入）")), *((h, h) for h in header if h)]
        for key, label in FIELDS.items():
            self.fields[key] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=key in REQUIRED,
                initial=proposed.get(key, ""),
                widget=_select(),
            )

    def mapping(self) -> dict[str, str]:
        return {k: v for k, v in self.cleaned_data.items() if k in FIELDS and v}
