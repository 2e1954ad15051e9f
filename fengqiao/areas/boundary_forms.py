"""The boundary import form: validates the upload, never imports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

IMPORT_CHOICES = [
    ("areas", _("辖区边界（派出所、社区/村、网格）")),
    ("police_grids", _("警格及其网格")),
]


def too_big(size: int) -> str | None:
    """Return the refusal for an upload of `size` bytes, or None if it is within the limit."""
    limit = int(settings.FENGQIAO_MAX_UPLOAD_BYTES)
    if size <= limit:
        return None
    return _("文件太大（%(size)s），上限为 %(limit)s。") % {
        "size": filesizeformat(size),
        "limit": filesizeformat(limit),
    }


class BoundaryImportForm(forms.Form):
    what = forms.ChoiceField(
        label=_("导入内容"),
        choices=IMPORT_CHOICES,
        initial="areas",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=_("GeoJSON 文件"),
        help_text=_(
            "UTF-8 编码的 GeoJSON 要素集合（FeatureCollection），坐标为 [经度, 纬度]。"
            "全部要素检查通过后才会导入。"
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "class": "form-control",
                "accept": ".geojson,.json,application/geo+json,application/json",
            }
        ),
    )
    on_date = forms.DateField(
        label=_("警格调整生效日期"),
        required=False,
        help_text=_("仅用于警格导入；留空为今天。"),
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )
    check_only = forms.BooleanField(
        label=_("仅检查，不导入"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def clean_file(self) -> Any:
        upload: UploadedFile = self.cleaned_data["file"]
        refusal = too_big(upload.size or 0)
        if refusal:
            raise forms.ValidationError(refusal, code="too_big")
        return upload
