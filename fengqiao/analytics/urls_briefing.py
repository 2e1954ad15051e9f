"""Pages of the morning briefing and its orders, under /analytics/briefings/."""

from django.urls import path

from fengqiao.analytics import views_briefing as v

urlpatterns: list = [
    path("", v.briefing_list, name="briefing_list"),
    path("generate", v.briefing_generate_now, name="briefing_generate"),
    path("<int:pk>/", v.briefing_detail, name="briefing_detail"),
    path("<int:pk>/print/", v.briefing_print, name="briefing_print"),
    path("<int:pk>.xlsx", v.briefing_xlsx, name="briefing_xlsx"),
    path("<int:pk>/orders/", v.briefing_order_issue, name="briefing_order_issue"),
    path("orders/", v.order_list, name="order_list"),
    path("orders/<int:pk>/", v.order_detail, name="order_detail"),
    path("orders/<int:pk>/acknowledge", v.order_acknowledge_view, name="order_acknowledge"),
    path("orders/<int:pk>/complete", v.order_complete_view, name="order_complete"),
    path("orders/<int:pk>/cancel", v.order_cancel_view, name="order_cancel"),
]
