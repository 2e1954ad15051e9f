from django.urls import path

from fengqiao.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.area_list, name="area_list"),
    path("map/", views.map_page, name="map"),
    path("map/data.geojson", views.map_data, name="map_data"),
    path("places/", views.place_list, name="place_list"),
]
