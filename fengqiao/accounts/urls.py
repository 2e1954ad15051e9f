from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from fengqiao.accounts import views


class UserActionConverter:
    """Match only the actions user_action knows, so that anything else is a 404."""

    regex = "|".join(views.USER_ACTIONS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UserActionConverter, "user_action")

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("profile/", views.profile, name="profile"),
    path("tokens/<int:pk>/revoke", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/<user_action:action>", views.user_action, name="user_action"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read", views.notification_read, name="notification_read"),
]
