from django.urls import path

from fengqiao.areas import boundary_views, views

app_name = "areas"
urlpatterns = [
    path("", views.area_list, name="area_list"),
    path("map/", views.map_page, name="map"),
    path("import/", boundary_views.boundary_import, name="boundary_import"),
    path("map/data.geojson", views.map_data, name="map_data"),
    path("places/", views.place_list, name="place_list"),
    path("places/new/", views.place_create, name="place_create"),
    path("places/import/", views.place_import, name="place_import"),
    path("places/export.xlsx", views.place_export, name="place_export"),
    path("places/<int:pk>/", views.place_detail, name="place_detail"),
    path("places/<int:pk>/edit/", views.place_update, name="place_update"),
]
