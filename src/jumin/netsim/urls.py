from django.urls import path

from jumin.netsim import views

urlpatterns = [
    path("v1/messages", views.messages, name="messages"),
    path("v1/messages:batch", views.messages_batch, name="messages_batch"),
    path("v1/nodes", views.nodes, name="nodes"),
    path("v1/nodes/<str:code>", views.node, name="node"),
    path("v1/health", views.health, name="health"),
    path("v1/_faults", views.fault_control, name="faults"),
]

handler400 = "jumin.netsim.views.bad_request"
handler404 = "jumin.netsim.views.not_found"
handler500 = "jumin.netsim.views.server_error"
