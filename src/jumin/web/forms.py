from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from jumin.accounts.selectors import terminal_list


class StaffLoginForm(AuthenticationForm):
    username = forms.CharField(
        label="職員ID",
        max_length=32,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="パスワード",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    terminal = forms.TypedChoiceField(
        label="端末",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="この端末の名前（設置場所）。操作ログと異動の記録に残ります。",
    )
    error_messages = {  # noqa: RUF012 - Django's own attribute shape
        "invalid_login": (
            "職員IDまたはパスワードが正しくありません。入力を確認してもう一度お試しください。"
            "有効期間外の職員IDではログインできません。"
        ),
        "inactive": "この職員IDは無効です。システム管理者に連絡してください。",
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        terminals = terminal_list().filter(is_active=True)
        field = self.fields["terminal"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "（選択してください）")] + [
            (t.pk, f"{t.name}（{t.location}）") for t in terminals
        ]
        field.required = terminals.exists()
        field.error_messages["required"] = (
            "端末を選択してください。一覧にない場合はシステム管理者に端末の登録を依頼してください。"
        )
