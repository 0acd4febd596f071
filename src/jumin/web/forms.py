from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class StaffLoginForm(AuthenticationForm):
    username = forms.CharField(
        label="職員ID", max_length=32, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(
        label="パスワード",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {  # noqa: RUF012 - Django's own attribute shape
        "invalid_login": (
            "職員IDまたはパスワードが正しくありません。入力を確認してもう一度お試しください。"
            "有効期間外の職員IDではログインできません。"
        ),
        "inactive": "この職員IDは無効です。システム管理者に連絡してください。",
    }
